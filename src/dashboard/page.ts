// The dashboard's page shell and stylesheet. The page holds no data: the script modules
// (src/dashboard/client/, compiled by tsc with the rest) ask for a token and fetch everything with
// it. Nothing is loaded from another host; the Content-Security-Policy says so to the browser too.

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>Twinlease</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/dashboard.css">
<script type="module" src="/ui/assets/main.js"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the Twinlease dashboard…</p></div>
<noscript><p class="boot">The Twinlease dashboard needs JavaScript. The API (/openapi.json) works without it.</p></noscript>
</body>
</html>
`;

export const DASHBOARD_CSS = `
:root {
  --bg: #f4f5f7; --card: #fff; --fg: #1b1e22; --muted: #4f5862; --border: #d5d9de; --accent: #0a4fbf;
  --ok: #18743a; --warn: #8f4a00; --bad: #b1241b; --work: #5a34b8; --idle: #5b6168;
  --this-use: #0a4fbf; --partner-use: #6d3fc6; --this-free: #9cc3f5; --partner-free: #cdb8f3; --other: #9aa1a9;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  font-size: 15px; line-height: 1.45; color: var(--fg); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
button, input, select { font: inherit; }
.boot { padding: 2rem; }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5rem; z-index: 10; }
.skip:focus { left: .5rem; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.25rem; padding: .6rem 1rem;
  background: #16202c; color: #fff; }
header.top .brand { font-weight: 700; font-size: 1.1rem; margin: 0; }
header.top .server-name { color: #d8dee6; }
header.top nav ul { display: flex; gap: .25rem; list-style: none; margin: 0; padding: 0; flex-wrap: wrap; }
header.top nav a { color: #fff; text-decoration: none; padding: .35rem .7rem; border-radius: 6px; display: inline-block; }
header.top nav a[aria-current="page"] { background: #34465c; }
header.top nav a:hover, header.top nav a:focus-visible { background: #2a3a4e; }
header.top .right { margin-left: auto; display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
.live { font-size: .85rem; padding: .15rem .55rem; border-radius: 999px; background: #2a3a4e; color: #fff; }
.live[data-live="live"]::before { content: "● "; color: #6ee29a; }
.live[data-live="down"]::before { content: "● "; color: #ff9a8f; }
.access { font-size: .85rem; color: #d8dee6; }
.btn { border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 6px;
  padding: .4rem .8rem; cursor: pointer; }
.btn.secondary { background: #fff; color: var(--accent); }
.btn.danger { background: var(--bad); border-color: var(--bad); }
.btn.small { padding: .2rem .55rem; font-size: .9rem; }
.btn:disabled { opacity: .6; cursor: default; }
header.top .btn.secondary { background: transparent; color: #fff; border-color: #8193a8; }
main { padding: 1rem; max-width: 1400px; margin: 0 auto; }
h1 { font-size: 1.35rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 0 0 .6rem; }
h3 { font-size: 1rem; margin: 0 0 .4rem; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 10px; padding: 1rem; margin-bottom: 1rem; }
.muted { color: var(--muted); }
.grid2 { display: grid; grid-template-columns: 1fr; gap: 1rem; }
@media (min-width: 900px) { .grid2 { grid-template-columns: 1fr 1fr; } }
.alerts { list-style: none; margin: 0 0 1rem; padding: 0; display: grid; gap: .6rem; }
.alert { border-left: 6px solid var(--warn); background: #fff7ec; border-radius: 8px; padding: .7rem .9rem; }
.alert[data-severity="critical"] { border-color: var(--bad); background: #fdeeed; }
.alert[data-severity="info"] { border-color: var(--accent); background: #edf3fd; }
.alert .title { font-weight: 700; }
.alert .next { margin-top: .3rem; }
.noalerts { color: var(--ok); font-weight: 600; margin: 0 0 1rem; }
.state { display: inline-block; padding: .1rem .55rem; border-radius: 999px; color: #fff; font-weight: 600;
  font-size: .9rem; background: var(--idle); white-space: nowrap; }
.state[data-state="normal"] { background: var(--ok); }
.state[data-state="communicationsInterrupted"], .state[data-state="resolutionInterrupted"] { background: var(--warn); }
.state[data-state="partnerDown"] { background: var(--bad); }
.state[data-state="recover"], .state[data-state="recoverWait"], .state[data-state="recoverDone"],
.state[data-state="potentialConflict"], .state[data-state="conflictDone"] { background: var(--work); }
.servers { display: grid; grid-template-columns: 1fr; gap: .8rem; margin: .6rem 0; }
@media (min-width: 700px) { .servers { grid-template-columns: 1fr 1fr; } }
.server { border: 1px solid var(--border); border-radius: 8px; padding: .7rem; }
.server h3 { display: flex; gap: .5rem; align-items: baseline; flex-wrap: wrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .9rem; margin: .4rem 0 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; margin-top: .6rem; }
.result { margin-top: .5rem; padding: .5rem .7rem; border-radius: 6px; background: #eef6f0; }
.result[data-ok="false"] { background: #fdeeed; }
figure.timeline, figure.chart { margin: 0 0 .5rem; }
.timeline svg, .chart svg { width: 100%; height: auto; display: block; }
.stale { font-size: .85rem; color: var(--muted); margin-left: .4rem; }
.legend { display: flex; flex-wrap: wrap; gap: .3rem 1rem; list-style: none; padding: 0; margin: .4rem 0 0; font-size: .9rem; }
.legend .sw { display: inline-block; width: .9rem; height: .9rem; border-radius: 3px; vertical-align: -2px; margin-right: .3rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--border); vertical-align: middle; }
th { font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th button.sort { background: none; border: none; padding: 0; font-weight: 600; cursor: pointer; color: var(--fg); }
.bar { display: flex; height: 14px; border-radius: 4px; overflow: hidden; background: #e6e9ed; min-width: 120px; }
.bar span { display: block; height: 100%; }
.bar .this-use { background: var(--this-use); } .bar .partner-use { background: var(--partner-use); }
.bar .this-free { background: var(--this-free); } .bar .partner-free { background: var(--partner-free); }
.bar .other { background: var(--other); }
.sw.this-use { background: var(--this-use); } .sw.partner-use { background: var(--partner-use); }
.sw.this-free { background: var(--this-free); } .sw.partner-free { background: var(--partner-free); }
.sw.other { background: var(--other); }
.toolbar { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: .8rem; }
.toolbar label { display: flex; flex-direction: column; font-size: .9rem; gap: .15rem; }
.toolbar input, .toolbar select { padding: .35rem .5rem; border: 1px solid #8a939d; border-radius: 6px; min-width: 12rem; }
.login { max-width: 26rem; margin: 10vh auto; }
.login form { display: grid; gap: .6rem; }
.login input { padding: .5rem; border: 1px solid #8a939d; border-radius: 6px; }
.error { color: var(--bad); font-weight: 600; }
dialog { border: 1px solid var(--border); border-radius: 10px; max-width: 34rem; padding: 1.1rem; }
dialog::backdrop { background: rgb(0 0 0 / .45); }
.stats7 { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: .5rem; margin: .6rem 0; }
.stats7 > div { border: 1px solid var(--border); border-radius: 8px; padding: .45rem .6rem; }
.stats7 .v { font-size: 1.3rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.stats7 .k { font-size: .85rem; color: var(--muted); }
.kv-time .rel { color: var(--muted); }
.note { font-size: .9rem; color: var(--muted); }
@media (max-width: 600px) {
  main { padding: .6rem; }
  .card { padding: .75rem; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dt { margin-top: .3rem; }
  .toolbar input, .toolbar select { min-width: 0; width: 100%; }
  .toolbar label { flex: 1 1 100%; }
  .hide-narrow { display: none; }
}
`;
