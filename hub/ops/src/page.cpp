#include "gridhub/ops/page.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace gridhub::ops {

namespace {

// Labels are Chinese (the command centre's language); the script keeps no text of its own beyond them.
constexpr std::string_view kStyle = R"CSS(
:root{--bg:#0f1720;--panel:#17212b;--line:#2a3a4a;--text:#e6edf3;--dim:#8b9bab;--ok:#2e7d32;--warn:#f9a825;--bad:#e53935}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.45 "Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.5rem 1.5rem;padding:.6rem 1rem;border-bottom:1px solid var(--line)}
header h1{font-size:1.3rem;margin:0}
#status{color:var(--dim);font-size:.85rem}
#status.down{color:var(--bad)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.6rem;padding:.6rem 1rem}
.card{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.5rem .8rem}
.card .k{color:var(--dim);font-size:.8rem}
.card .v{font-size:1.8rem;font-weight:600;font-variant-numeric:tabular-nums}
.card.bad .v{color:var(--bad)}
main{display:grid;gap:.8rem;padding:0 1rem 1rem;grid-template-columns:1fr}
section{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem;min-width:0}
section h2{font-size:1rem;margin:0 0 .4rem}
#map svg{width:100%;height:auto;max-height:70vh;display:block}
path.grid{fill:#1e3a2a;stroke:#5b6b7b;stroke-width:1;vector-effect:non-scaling-stroke}
path.grid[data-level="1"]{fill:#3d6b2f}path.grid[data-level="2"]{fill:#a08a1c}path.grid[data-level="3"]{fill:#b35c16}
path.grid[data-level="4"]{fill:#9b1c1c}
path.grid[data-breached]{stroke:var(--bad);stroke-width:3}
svg text{fill:#fff;font-size:11px;text-anchor:middle;dominant-baseline:middle;pointer-events:none}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;color:var(--dim);font-size:.8rem;margin-top:.3rem}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em;border:1px solid #5b6b7b}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:.2rem .4rem;border-bottom:1px solid var(--line);white-space:nowrap}
td.n,th.n{text-align:right}
td.late{color:var(--bad)}
.scroll{overflow:auto;max-height:26rem}
.empty{color:var(--dim)}
@media (min-width:1100px){main{grid-template-columns:2fr 1fr 1fr}#map{grid-row:span 2}}
@media (min-width:1900px){body{font-size:18px}}
@media (max-width:600px){.card .v{font-size:1.4rem}th,td{white-space:normal}}
)CSS";

constexpr std::string_view kScript = R"JS(
'use strict';
const $ = id => document.getElementById(id);
const esc = s => String(s).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const TIER = {grid:'网格', community:'社区', county:'县级部门', center:'12345中心', unspecified:'未定'};
const level = n => n === 0 ? 0 : n <= 2 ? 1 : n <= 5 ? 2 : n <= 10 ? 3 : 4;
function left(us, now) {
  const m = Math.max(0, Math.round((us - now) / 60e6));
  return m < 60 ? m + ' 分钟' : m < 1440 ? Math.floor(m / 60) + ' 小时 ' + (m % 60) + ' 分' : Math.floor(m / 1440) + ' 天 ' + Math.floor(m % 1440 / 60) + ' 小时';
}
function rows(id, list, cells, emptyText, cols) {
  $(id).innerHTML = list.length ? list.map(cells).join('') : '<tr><td class="empty" colspan="' + cols + '">' + emptyText + '</td></tr>';
}
function render(s) {
  $('open').textContent = s.open;
  $('breached').textContent = s.breached;
  $('breached-card').classList.toggle('bad', s.breached > 0);
  $('lag').textContent = s.lag;
  $('dead').textContent = s.dead_letters === null ? '—' : s.dead_letters;
  $('seq').textContent = s.seq;
  for (const p of document.querySelectorAll('path.grid')) {
    const g = s.grids[p.dataset.grid] || [0, 0];
    p.dataset.open = g[0];
    p.dataset.level = level(g[0]);
    if (g[1] > 0) p.dataset.breached = g[1]; else delete p.dataset.breached;
    const t = $('t-' + p.dataset.grid);
    if (t) t.textContent = g[0] ? g[0] : '';
  }
  const tally = r => '<tr data-code="' + esc(r.code) + '"><td>' + esc(r.name) + '</td><td class="n open">' + r.open +
      '</td><td class="n' + (r.breached ? ' late' : '') + '">' + r.breached + '</td></tr>';
  rows('communities', s.communities, tally, '暂无在办工单', 3);
  rows('assignees', s.assignees, tally, '暂无在办工单', 3);
  rows('nearest', s.nearest, t => '<tr><td>' + esc(t.id) + '</td><td>' + esc(t.category) + '</td><td>' + esc(t.grid || t.community) +
      '</td><td>' + esc(t.assignee) + '（' + TIER[t.tier] + '）</td><td class="n">' + left(t.due_us, s.now_us) + '</td></tr>', '暂无计时工单', 5);
  rows('hotspots', s.hotspots, h => '<tr><td>' + (h.kind === 'hotspot' ? '热点' : '其他记录') + '</td><td>' + esc(h.ticket_id || '—') +
      '</td><td>' + esc(h.grid || '') + ' ' + esc(h.category || '') + '</td><td>' + new Date(h.recorded_at_us / 1000).toLocaleString('zh-CN') +
      '</td></tr>', '暂无热点', 4);
  $('updated').textContent = new Date(s.now_us / 1000).toLocaleTimeString('zh-CN');
  document.body.dataset.seq = s.seq;
  document.body.dataset.open = s.open;
  document.body.dataset.connected = s.connected;
  $('status').classList.toggle('down', !s.connected);
  $('link').textContent = s.connected ? '已连接中心' : '与中心的连接中断';
}
function connect() {
  const es = new EventSource('events');
  es.addEventListener('summary', e => render(JSON.parse(e.data)));
  es.onerror = () => { $('status').classList.add('down'); $('link').textContent = '正在重新连接…'; };
}
connect();
)JS";

/// Equirectangular with the mean latitude's scale: right for a county's few kilometres.
struct Projection {
  double min_lon = 0, max_lat = 0, kx = 1, scale = 1, width = 1000, height = 1000;
  double x(double lon) const { return (lon - min_lon) * kx * scale; }
  double y(double lat) const { return (max_lat - lat) * scale; }
};

Projection fit(const World& world) {
  double min_lon = std::numeric_limits<double>::max(), max_lon = std::numeric_limits<double>::lowest();
  double min_lat = min_lon, max_lat = max_lon;
  for (const auto& g : world.grids) {
    for (const auto& p : g.ring) {
      min_lon = std::min(min_lon, p.lon);
      max_lon = std::max(max_lon, p.lon);
      min_lat = std::min(min_lat, p.lat);
      max_lat = std::max(max_lat, p.lat);
    }
  }
  Projection pr;
  if (world.grids.empty()) return pr;
  pr.min_lon = min_lon;
  pr.max_lat = max_lat;
  pr.kx = std::cos((min_lat + max_lat) / 2 * 3.14159265358979323846 / 180);
  const double w = std::max((max_lon - min_lon) * pr.kx, 1e-9);
  const double h = std::max(max_lat - min_lat, 1e-9);
  pr.scale = pr.width / w;
  pr.height = std::ceil(h * pr.scale);
  return pr;
}

}  // namespace

std::string render_page(const World& world, std::string_view title) {
  const Projection pr = fit(world);
  std::string svg = fmt::format(R"(<svg viewBox="-4 -4 {:.0f} {:.0f}" role="img" aria-label="网格地图">)", pr.width + 8, pr.height + 8);
  for (const auto& g : world.grids) {
    std::string d;
    double cx = 0, cy = 0;
    for (std::size_t i = 0; i + 1 < g.ring.size(); ++i) {   // the closing point repeats the first: Z draws it
      const double x = pr.x(g.ring[i].lon), y = pr.y(g.ring[i].lat);
      d += fmt::format("{}{:.1f} {:.1f}", i == 0 ? "M" : " L", x, y);
      cx += x;
      cy += y;
    }
    const double n = static_cast<double>(std::max<std::size_t>(g.ring.size() - 1, 1));
    svg += fmt::format(R"(<path class="grid" id="g-{0}" data-grid="{0}" data-open="0" data-level="0" d="{1} Z"><title>{2}（{3}）</title></path>)",
                       html_escape(g.code), d, html_escape(g.name), html_escape(world.community_name(g.community)));
    svg += fmt::format(R"(<text id="t-{}" x="{:.1f}" y="{:.1f}"></text>)", html_escape(g.code), cx / n, cy / n);
  }
  svg += "</svg>";
  const std::string t = html_escape(title);
  return fmt::format(R"(<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{0}</title><style>{1}</style></head>
<body data-seq="0" data-open="0" data-connected="false">
<header><h1>{0}</h1><span id="status" class="down"><span id="link">正在连接…</span> · 记录 <span id="seq">0</span> · 更新于 <span id="updated">—</span></span></header>
<div class="cards">
<div class="card"><div class="k">在办工单</div><div class="v" id="open">—</div></div>
<div class="card" id="breached-card"><div class="k">已超时限</div><div class="v" id="breached">—</div></div>
<div class="card"><div class="k">数据流滞后（条）</div><div class="v" id="lag">—</div></div>
<div class="card"><div class="k">死信</div><div class="v" id="dead">—</div></div>
</div>
<main>
<section id="map"><h2>网格地图（{2} 个网格）</h2>{3}
<div class="legend"><span><i style="background:#1e3a2a"></i>无在办</span><span><i style="background:#3d6b2f"></i>1–2 件</span><span><i style="background:#a08a1c"></i>3–5 件</span><span><i style="background:#b35c16"></i>6–10 件</span><span><i style="background:#9b1c1c"></i>10 件以上</span><span><i style="border:2px solid #e53935"></i>有超时</span></div></section>
<section><h2>各社区积压</h2><div class="scroll"><table><thead><tr><th>社区</th><th class="n">在办</th><th class="n">超时</th></tr></thead><tbody id="communities"></tbody></table></div></section>
<section><h2>各部门积压</h2><div class="scroll"><table><thead><tr><th>承办单位</th><th class="n">在办</th><th class="n">超时</th></tr></thead><tbody id="assignees"></tbody></table></div></section>
<section><h2>临近时限工单</h2><div class="scroll"><table><thead><tr><th>工单号</th><th>类别</th><th>网格</th><th>承办</th><th class="n">剩余</th></tr></thead><tbody id="nearest"></tbody></table></div></section>
<section><h2>热点</h2><div class="scroll"><table><thead><tr><th>类型</th><th>工单号</th><th>位置与类别</th><th>时间</th></tr></thead><tbody id="hotspots"></tbody></table></div></section>
</main>
<script>{4}</script>
</body></html>
)",
                     t, kStyle, world.grids.size(), svg, kScript);
}

}  // namespace gridhub::ops
