"""The offline HTML dashboard: the five Power BI pages in one self-contained file.

Data comes from the dashboard views, is embedded as JSON, and a small inline script
draws SVG charts, so the file opens anywhere (no server, no network, no CDN). Each
chart records how many marks it drew in `data-marks`, which is what tests check.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
import uuid
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

PAGES = (
    ("sales_trend", "Sales trend"),
    ("top_products", "Top-selling products"),
    ("stock_monitoring", "Stock monitoring"),
    ("kpis", "Revenue and quantity KPIs"),
    ("forecast_vs_actual", "Forecast vs actual"),
)
HISTORY_DAYS_BESIDE_FORECAST = 56
LOWEST_COVER_ROWS = 15


def _read(engine: Engine, sql: str, **params) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(sql), conn, params=params)


def _records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: dates as ISO strings, NaN as null, numbers rounded for a small file."""
    out = []
    for row in frame.to_dict("records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, dt.date | pd.Timestamp):
                clean[key] = value.isoformat()[:10]
            elif isinstance(value, float):
                clean[key] = None if math.isnan(value) else round(value, 3)
            elif value is None or value is pd.NA:
                clean[key] = None
            else:
                clean[key] = value.item() if hasattr(value, "item") else value
        out.append(clean)
    return out


def _has(engine: Engine, table: str) -> bool:
    return sa.inspect(engine).has_table(table)


def dashboard_data(engine: Engine) -> dict:
    """Everything the five pages show, read from the dashboard views (and the stock plan)."""
    trend = _read(engine, "SELECT date, quantity, revenue FROM vw_sales_trend ORDER BY date")
    trend["date"] = pd.to_datetime(trend["date"]).dt.date
    top = _read(
        engine,
        "SELECT product_id, product_name, category, quantity, revenue, revenue_rank FROM vw_top_products "
        "WHERE revenue_rank <= 10 ORDER BY revenue_rank",
    )
    lowest_cover = _read(
        engine,
        "SELECT store_id, product_id, stock_on_hand, avg_daily_quantity, days_of_cover FROM vw_stock_monitoring "
        "WHERE days_of_cover IS NOT NULL ORDER BY days_of_cover, store_id, product_id",
    ).head(LOWEST_COVER_ROWS)
    status = pd.DataFrame(columns=["status", "series"])
    if _has(engine, "fact_inventory_plan"):
        status = _read(engine, "SELECT status, COUNT(*) AS series FROM fact_inventory_plan GROUP BY status ORDER BY status")
    kpis = _read(engine, "SELECT * FROM vw_kpi_cards")
    latest = _read(engine, "SELECT forecast_run_id, MAX(created_at) AS created_at FROM fact_forecast GROUP BY forecast_run_id")
    forecast = pd.DataFrame(columns=["date", "p10", "p50", "p90", "actual"])
    accuracy = pd.DataFrame()
    if not latest.empty:
        run_id = latest.sort_values("created_at").iloc[-1]["forecast_run_id"]
        forecast = _read(
            engine,
            "SELECT date, SUM(p10) AS p10, SUM(p50) AS p50, SUM(p90) AS p90, SUM(actual_quantity) AS actual "
            "FROM vw_forecast_vs_actual WHERE forecast_run_id = :run GROUP BY date ORDER BY date",
            run=run_id,
        )
        forecast["date"] = pd.to_datetime(forecast["date"]).dt.date
        if _has(engine, "fact_forecast_accuracy"):
            accuracy = _read(
                engine,
                "SELECT horizon_bucket, points, mae, rmse, bias, wape, coverage_p10_p90 FROM vw_forecast_accuracy "
                "WHERE forecast_run_id = :run ORDER BY horizon_bucket",
                run=run_id,
            )
    history = trend[["date", "quantity"]]
    if not forecast.empty:
        start = forecast["date"].min() - dt.timedelta(days=HISTORY_DAYS_BESIDE_FORECAST)
        history = history[(history["date"] >= start) & (history["date"] < forecast["date"].min())]
    return {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "trend": _records(trend),
        "top_products": _records(top),
        "stock_status": _records(status),
        "lowest_cover": _records(lowest_cover),
        "kpis": _records(kpis)[0] if not kpis.empty else {},
        "forecast": _records(forecast),
        "history": _records(history),
        "accuracy": _records(accuracy),
    }


def render_dashboard(data: dict) -> str:
    """The whole dashboard as one HTML string with the data and the drawing script inline."""
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    nav = "".join(f'<a href="#{key}">{html.escape(title)}</a>' for key, title in PAGES)
    return _TEMPLATE.replace("{{nav}}", nav).replace("{{data}}", payload).replace(
        "{{generated}}", html.escape(data["generated_at"])
    )


def write_dashboard(path: Path, data: dict) -> Path:
    """Write dashboard.html atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    partial.write_text(render_dashboard(data), encoding="utf-8")
    os.replace(partial, path)
    return path


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NEX GEN sales dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#102a43;color:#fff;padding:12px 24px;position:sticky;top:0}
header h1{font-size:18px;margin:0 0 6px}header nav a{color:#9fb3c8;margin-right:18px;text-decoration:none}
section{background:#fff;margin:16px 24px;padding:16px 20px;border-radius:6px;box-shadow:0 1px 3px #0002}
section h2{font-size:16px;margin:0 0 12px}figure{margin:0}svg{display:block}
.cards{display:flex;gap:16px;flex-wrap:wrap}.card{flex:1;min-width:180px;border:1px solid #d9e2ec;border-radius:6px;padding:12px}
.card .label{color:#627d98;font-size:12px}.card .value{font-size:24px;font-weight:600}
.up{color:#0e7c3a}.down{color:#b42318}table{border-collapse:collapse;width:100%;margin-top:8px}
th,td{border-bottom:1px solid #e4e7eb;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
.legend span{margin-right:14px;font-size:12px}.empty{color:#b42318}
</style></head><body>
<header><h1>NEX GEN sales dashboard</h1><nav>{{nav}}</nav><small>Data as of {{generated}}</small></header>
<section id="sales_trend"><h2>Sales trend</h2><figure class="chart" data-chart="sales_trend"></figure></section>
<section id="top_products"><h2>Top-selling products (revenue)</h2>
<figure class="chart" data-chart="top_products"></figure></section>
<section id="stock_monitoring"><h2>Stock monitoring</h2><figure class="chart" data-chart="stock_status"></figure>
<figure class="chart" data-chart="lowest_cover"></figure></section>
<section id="kpis"><h2>Revenue and quantity KPIs</h2><figure class="chart" data-chart="kpi_cards"></figure></section>
<section id="forecast_vs_actual"><h2>Forecast vs actual (latest run, all series)</h2>
<figure class="chart" data-chart="forecast_vs_actual"></figure>
<figure class="chart" data-chart="accuracy" data-optional="1"></figure>
</section>
<script type="application/json" id="nexgen-data">{{data}}</script>
<script>
(function(){
"use strict";
var D=JSON.parse(document.getElementById("nexgen-data").textContent),NS="http://www.w3.org/2000/svg";
function fig(name){return document.querySelector('figure[data-chart="'+name+'"]');}
function el(tag,attrs,parent){var e=document.createElementNS(NS,tag);for(var k in attrs)e.setAttribute(k,attrs[k]);
 if(parent)parent.appendChild(e);return e;}
function fmt(v){if(v===null||v===undefined)return "";var a=Math.abs(v);if(Number.isInteger(v)&&a<1e4)return String(v);
 if(a>=1e6)return(v/1e6).toFixed(2)+"M";if(a>=1e3)return(v/1e3).toFixed(1)+"k";return(+v).toFixed(a<10?2:0);}
function done(f,marks){f.setAttribute("data-marks",String(marks));
 if(!marks&&!f.dataset.optional){var p=document.createElement("p");p.className="empty";p.textContent="No data";f.appendChild(p);}}
function day(s){return Date.parse(s+"T00:00:00Z");}
function lines(f,series,band){
 var W=1100,H=300,L=60,R=20,T=16,B=30,xs=[],ys=[];
 series.forEach(function(s){s.points.forEach(function(p){if(p[1]!==null){xs.push(p[0]);ys.push(p[1]);}});});
 if(band)band.forEach(function(p){xs.push(p[0]);ys.push(p[2]);});
 if(!xs.length){done(f,0);return;}
 var x0=Math.min.apply(null,xs),x1=Math.max.apply(null,xs),y1=Math.max.apply(null,ys)||1;
 function X(v){return L+(x1>x0?(v-x0)/(x1-x0):0.5)*(W-L-R);}function Y(v){return H-B-(v/y1)*(H-T-B);}
 var svg=el("svg",{viewBox:"0 0 "+W+" "+H,width:"100%",role:"img"},f),marks=0;
 for(var i=0;i<=4;i++){var v=y1*i/4;el("line",{x1:L,x2:W-R,y1:Y(v),y2:Y(v),stroke:"#e4e7eb"},svg);
  el("text",{x:L-6,y:Y(v)+4,"text-anchor":"end","font-size":11,fill:"#627d98"},svg).textContent=fmt(v);}
 [[x0,"start"],[(x0+x1)/2,"middle"],[x1,"end"]].forEach(function(t){el("text",{x:X(t[0]),y:H-8,"text-anchor":t[1],
  "font-size":11,fill:"#627d98"},svg).textContent=new Date(t[0]).toISOString().slice(0,10);});
 var legend=document.createElement("div");legend.className="legend";
 if(band&&band.length){var up=band.map(function(p){return X(p[0])+","+Y(p[2]);}),lo=band.slice().reverse().map(function(p){
  return X(p[0])+","+Y(p[1]);});el("polygon",{points:up.concat(lo).join(" "),fill:"#9fb3c8",opacity:0.35,"class":"band"},svg);
  var bk=document.createElement("span");bk.style.color="#9fb3c8";bk.textContent="\u25A0 p10-p90 per series, summed";
  legend.appendChild(bk);}
 series.forEach(function(s){var pts=s.points.filter(function(p){return p[1]!==null;});if(!pts.length)return;
  el("polyline",{points:pts.map(function(p){return X(p[0])+","+Y(p[1]);}).join(" "),fill:"none",stroke:s.color,
   "stroke-width":s.width||1.5,"class":"series"},svg);marks+=pts.length;
  var key=document.createElement("span");key.style.color=s.color;key.textContent="\\u25A0 "+s.name;legend.appendChild(key);});
 f.appendChild(legend);done(f,marks);}
function bars(f,rows,label,value,color){
 if(!rows.length){done(f,0);return;}
 var W=1100,row=26,L=260,H=rows.length*row+10,vmax=Math.max.apply(null,rows.map(function(r){return r[value];}))||1;
 var svg=el("svg",{viewBox:"0 0 "+W+" "+H,width:"100%",role:"img"},f);
 rows.forEach(function(r,i){var w=(r[value]/vmax)*(W-L-90);
  el("text",{x:L-8,y:i*row+18,"text-anchor":"end","font-size":12},svg).textContent=label(r);
  el("rect",{x:L,y:i*row+5,width:Math.max(w,1),height:row-8,fill:color,"class":"bar"},svg);
  el("text",{x:L+w+6,y:i*row+18,"font-size":12,fill:"#334e68"},svg).textContent=fmt(r[value]);});
 done(f,rows.length);}
function table(f,rows,cols){
 if(!rows.length){done(f,0);return;}
 var t=document.createElement("table"),h=t.insertRow();cols.forEach(function(c){var th=document.createElement("th");
  th.textContent=c[1];h.appendChild(th);});
 rows.forEach(function(r){var tr=t.insertRow();cols.forEach(function(c){var v=r[c[0]];
  tr.insertCell().textContent=typeof v==="number"?fmt(v):(v===null?"":v);});});
 f.appendChild(t);done(f,rows.length);}
function cards(f,k){
 var items=[["Revenue, last 28 days",k.revenue_last_28_days,k.revenue_previous_28_days],
  ["Quantity, last 28 days",k.quantity_last_28_days,null],["Total revenue",k.total_revenue,null],
  ["Total quantity",k.total_quantity,null]],box=document.createElement("div"),marks=0;box.className="cards";
 items.forEach(function(it){if(it[1]===null||it[1]===undefined)return;var c=document.createElement("div");c.className="card";
  c.innerHTML='<div class="label"></div><div class="value"></div><div class="delta"></div>';
  c.children[0].textContent=it[0];c.children[1].textContent=fmt(it[1]);
  if(it[2]){var ch=(it[1]-it[2])/it[2];c.children[2].textContent=(ch>=0?"\\u25B2 ":"\\u25BC ")+(ch*100).toFixed(1)+
   "% vs previous 28 days";c.children[2].className=ch>=0?"up":"down";}
  box.appendChild(c);marks++;});
 f.appendChild(box);done(f,marks);}
lines(fig("sales_trend"),[
 {name:"Quantity",color:"#2680c2",points:D.trend.map(function(r){return[day(r.date),r.quantity];})}]);
bars(fig("top_products"),D.top_products,function(r){return "#"+r.revenue_rank+" "+(r.product_name||r.product_id);},
 "revenue","#2680c2");
bars(fig("stock_status"),D.stock_status,function(r){return r.status;},"series","#de911d");
table(fig("lowest_cover"),D.lowest_cover,[["store_id","Store"],["product_id","Product"],["stock_on_hand","Stock on hand"],
 ["avg_daily_quantity","Avg daily quantity"],["days_of_cover","Days of cover"]]);
cards(fig("kpi_cards"),D.kpis);
lines(fig("forecast_vs_actual"),[
 {name:"Actual (history)",color:"#334e68",points:D.history.map(function(r){return[day(r.date),r.quantity];})},
 {name:"Forecast p50",color:"#2680c2",width:2,points:D.forecast.map(function(r){return[day(r.date),r.p50];})},
 {name:"Actual",color:"#b42318",width:2,points:D.forecast.map(function(r){return[day(r.date),r.actual];})}],
 D.forecast.map(function(r){return[day(r.date),r.p10,r.p90];}));
table(fig("accuracy"),D.accuracy,[["horizon_bucket","Horizon"],["points","Points"],["mae","MAE"],["rmse","RMSE"],
 ["bias","Bias"],["wape","WAPE"],["coverage_p10_p90","p10-p90 coverage"]]);
document.body.setAttribute("data-rendered","ok");
})();
</script></body></html>
"""
