//! The admin page's style sheet: system fonts, light and dark, and on narrow screens every
//! table row becomes a card whose cells carry their column name (`data-label`).

/// Inline CSS of the page (the page's Content-Security-Policy allows inline style only).
pub const STYLE: &str = r#"
:root{--bg:#f6f7f9;--fg:#1d2330;--muted:#687085;--card:#fff;--line:#dfe3ea;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e}
@media (prefers-color-scheme:dark){:root{--bg:#10141b;--fg:#e6e9ef;--muted:#98a1b3;--card:#191f29;--line:#2b3342;--ok:#3fb950;--warn:#d29922;--bad:#f85149}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{display:flex;align-items:baseline;gap:.6rem;flex-wrap:wrap;padding:.8rem 1rem;border-bottom:1px solid var(--line);background:var(--card)}
h1{font-size:1.25rem;margin:0}
h2{font-size:1.05rem;margin:1.6rem 0 .5rem}
main{padding:0 1rem 2rem;max-width:1200px;margin:0 auto}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.muted{color:var(--muted)}
.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}
.pill{display:inline-block;padding:0 .5rem;border-radius:1rem;border:1px solid currentColor;font-size:.85rem;white-space:nowrap}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:.7rem;margin-top:1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.7rem .9rem}
.k{color:var(--muted);font-size:.85rem}.v{font-size:1.35rem;font-weight:600}.s{color:var(--muted);font-size:.85rem}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:.5rem}
th,td{text-align:left;vertical-align:top;padding:.45rem .6rem;border-bottom:1px solid var(--line)}
th{font-size:.8rem;color:var(--muted);font-weight:600}
td.num{font-variant-numeric:tabular-nums}
.rule+.rule{margin-top:.4rem}
.rule ul{margin:.2rem 0 0;padding-left:1rem;list-style:none}
.dot{display:inline-block;width:.6rem;height:.6rem;border-radius:50%;background:currentColor;margin-right:.35rem}
footer{margin-top:2rem;color:var(--muted);font-size:.85rem}
a{color:inherit}
@media (max-width:700px){
 main{padding:0 .6rem 2rem}
 .cards{grid-template-columns:repeat(2,minmax(0,1fr));gap:.5rem}
 table,thead,tbody,tr,td{display:block}
 thead{display:none}
 table{border:0;background:none}
 tr{background:var(--card);border:1px solid var(--line);border-radius:.5rem;margin-bottom:.5rem;padding:.35rem 0}
 td{border:0;padding:.15rem .7rem;display:grid;grid-template-columns:5.5rem minmax(0,1fr);gap:.5rem;justify-items:start}
 td::before{content:attr(data-label);color:var(--muted);font-size:.8rem;padding-top:.1rem}
 td:first-child{display:block;font-size:1.02rem}
 td:first-child::before{content:none}
}
"#;
