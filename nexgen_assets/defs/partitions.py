"""One dynamic partition per landed file, so each file is ingested, retried and audited on its own."""

import dagster as dg

sales_files = dg.DynamicPartitionsDefinition(name="sales_files")
inventory_files = dg.DynamicPartitionsDefinition(name="inventory_files")
