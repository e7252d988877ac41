// One counterexample as a self-contained HTML page (reports/counterexamples/<name>.html):
// the reproduction script, the replay line, the first check that failed with the model's
// expected state beside the implementation's abstracted state, and the timeline drawn as one
// lane per CPU with, at each step, what changed in the implementation and in the model. No
// external resources (inline CSS and a small inline script), so it opens from disk anywhere.
import type { CorpusEntry } from './corpus.ts';
import type { RunResult } from './run.ts';
import { diffKey, stateAt, type StepState } from './state_view.ts';
import { checkClaim, finalDiff, foldAlike, hostLine, inLanes, taskText, texts, timelineRows, type TimelineRow } from './timeline.ts';
import { describe } from '../properties/commands/index.ts';

export interface HtmlInput {
  readonly name: string;
  readonly entry: CorpusEntry;
  readonly run: RunResult;
  readonly states: readonly StepState[];
  /** Where the entry is stored, and the lines that replay it. */
  readonly file: string;
  readonly replay: string;
  readonly replayPath?: string | null;
}

const esc = (s: string): string => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Fields that changed between two views, as "field: old → new". */
function changes(prev: Readonly<Record<string, string>> | undefined, now: Readonly<Record<string, string>>): string[] {
  if (!prev) return [];
  return Object.keys(now)
    .filter((k) => prev[k] !== now[k])
    .map((k) => `${k}: ${prev[k] ?? '—'} → ${now[k]}`);
}

const CSS = `
:root { --lane: #f3f6fb; --lane2: #eef7f0; --bad: #b00020; --ink: #1d2330; --muted: #5b6578; --line: #d8dde6; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0; padding: 24px 32px 64px; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
code, pre, .ev, td.mono { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre.replay { background: #0f172a; color: #e2e8f0; padding: 10px 14px; border-radius: 6px; overflow-x: auto; margin: 4px 0; }
.claim { color: var(--muted); margin: 0; }
.violated { border-left: 4px solid var(--bad); background: #fff5f6; padding: 8px 12px; margin: 8px 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; } dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
ol.commands { margin: 0; padding-left: 2.2em; } ol.commands li { padding: 1px 0; }
table { border-collapse: collapse; } th, td { text-align: left; vertical-align: top; padding: 3px 8px; border-bottom: 1px solid var(--line); }
table.state-diff td.impl { color: var(--bad); } table.state-diff td.model { color: #1b5e20; }
table.timeline { width: 100%; table-layout: auto; }
table.timeline th.lane { text-align: center; min-width: 14em; }
table.timeline td.lane { border-left: 3px solid #c9d3e3; min-width: 14em; }
table.timeline td.lane:nth-of-type(odd) { background: var(--lane); } table.timeline td.lane:nth-of-type(even) { background: var(--lane2); }
table.timeline tr.issue td { background: #fffbe6; font-style: italic; }
table.timeline tr.violation td { background: #ffe8eb !important; }
table.timeline tr.selected td { outline: 2px solid #3b82f6; outline-offset: -2px; }
table.timeline tr.step { cursor: pointer; }
td.delta { color: var(--muted); font-size: 12px; min-width: 18em; } td.delta .mismatch { color: var(--bad); }
.ev { white-space: pre-wrap; } .ev.bad { color: var(--bad); font-weight: 600; }
#state-panel { background: #fff; border-top: 2px solid var(--line); padding: 8px 0; margin-top: 16px; }
.scroll { overflow-x: auto; }
body.many-lanes table.timeline td.lane, body.many-lanes table.timeline th.lane { min-width: 9em; }
#state-panel table { font-size: 12.5px; }
.muted { color: var(--muted); }
`;

/** The inline script: click (or j/k) selects a step and shows the full state after it. */
const SCRIPT = `
(function () {
  var states = JSON.parse(document.getElementById('states').textContent);
  var byStep = {}; states.forEach(function (s) { byStep[s.step] = s; });
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.step'));
  var panel = document.getElementById('state-panel');
  function esc(s) { return String(s).replace(/[<>&]/g, function (c) { return { '<': '&lt;', '>': '&gt;', '&': '&amp;' }[c]; }); }
  function show(row) {
    rows.forEach(function (r) { r.classList.toggle('selected', r === row); });
    var s = byStep[row.getAttribute('data-step')];
    if (!s) return;
    var keys = Object.keys(s.impl).concat(Object.keys(s.model).filter(function (k) { return !(k in s.impl); }));
    var html = '<strong>state after step ' + s.step + '</strong> <span class="muted">(implementation | model)</span><table><tr><th>field</th><th>implementation</th><th>model</th></tr>';
    keys.forEach(function (k) { html += '<tr><td>' + esc(k) + '</td><td>' + esc(s.impl[k] === undefined ? '' : s.impl[k]) + '</td><td>' + esc(s.model[k] === undefined ? '' : s.model[k]) + '</td></tr>'; });
    html += '</table>';
    if (s.diff.length) html += '<p class="muted">abstract(impl) differs from the model in: ' + s.diff.map(function (d) { return esc(d.field); }).join(', ') + '</p>';
    panel.innerHTML = html;
    panel.hidden = false;
  }
  rows.forEach(function (r) { r.addEventListener('click', function () { show(r); }); });
  document.addEventListener('keydown', function (e) {
    var i = rows.findIndex(function (r) { return r.classList.contains('selected'); });
    if (e.key === 'j' && i < rows.length - 1) show(rows[i + 1]);
    if (e.key === 'k' && i > 0) show(rows[i - 1]);
  });
  var bad = document.querySelector('tr.violation') || rows[rows.length - 1];
  if (bad) show(bad);
  document.body.setAttribute('data-ready', '1');
})();
`;

/** Lanes drawn at most: a lane per CPU of 256 makes a page no browser lays out (two uploads: 77 MB). */
const LANES_MAX = 16;

export function counterexampleHtml(i: HtmlInput): string {
  const { entry: e, run, states } = i;
  const v = run.violation!;
  const s = e.scenario,
    n = s.host.nrCpus;
  const rows = timelineRows(run.records, n);
  const diff = finalDiff(run);
  const lanes = Math.min(n, LANES_MAX);
  const lanesHead = Array.from(
    { length: lanes },
    (_, c) => `<th class="lane" data-cpu="${c}">cpu ${c === lanes - 1 && n > lanes ? `${c}-${n - 1}` : c}</th>`,
  ).join('');
  const shown = new Set(rows.map((r) => r.step));
  const taskAt = new Map(run.records.filter((r) => !r.command).map((r) => [r.step, r.task]));
  // Steps where only the state moved (no trace event) still get a row, so no change is hidden.
  for (const st of states) {
    const prev = stateAt(states, st.step - 1);
    if (!shown.has(st.step) && (changes(prev?.impl, st.impl).length || changes(prev?.model, st.model).length)) {
      rows.push({ step: st.step, task: taskAt.get(st.step) ?? '', events: [], mismatch: false });
      shown.add(st.step);
    }
  }
  if (!shown.has(v.step)) rows.push({ step: v.step, task: taskAt.get(v.step) ?? '', events: [], mismatch: false });
  rows.sort((a, b) => a.step - b.step || (a.command ? -1 : 1));
  const deltaOf = (step: number): string => {
    const st = stateAt(states, step),
      prev = stateAt(states, step - 1);
    return [
      ...changes(prev?.impl, st?.impl ?? {}).map((c) => `<div>impl ${esc(c)}</div>`),
      ...changes(prev?.model, st?.model ?? {}).map((c) => `<div>model ${esc(c)}</div>`),
      ...(st && diffKey(st) !== diffKey(prev)
        ? [
            st.diff.length
              ? `<div class="mismatch">impl ≠ model: ${esc(st.diff.map((d) => `${d.field} (${d.impl} | ${d.model})`).join('; '))}</div>`
              : '<div>impl = model again</div>',
          ]
        : []),
    ].join('');
  };
  // A step did what another did if the state moved alike too (stopper/k takes seamldr_lock).
  const own = (r: TimelineRow) => new RegExp(`${r.task.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!\\d)`, 'g');
  const did = (r: TimelineRow) => `${texts(r)}\n${deltaOf(r.step).replace(own(r), '\u0000')}`;
  const folded = foldAlike(rows, (r) => r.step === v.step || r.mismatch, did);
  const drawn = new Set(folded.map((r) => r.step));
  const body = folded
    .map((r) => {
      if (r.command)
        return `<tr class="issue" data-step="${r.step}"><td class="mono">${r.step}</td><td colspan="${lanes + 2}">» issue command ${r.command.n}: <code>${esc(r.command.text)}</code></td></tr>`;
      const delta = deltaOf(r.step);
      const bad = r.step === v.step;
      const cells = inLanes(r, lanes, n)
        .map(
          (l, c) =>
            `<td class="lane" data-cpu="${c}">${l.map((t) => `<div class="ev${r.mismatch && t.includes('(model:') ? ' bad' : ''}">${esc(t)}</div>`).join('')}</td>`,
        )
        .join('');
      const violation = bad ? `<div class="ev bad">✗ ${esc(v.id)}: ${esc(v.message)}</div>` : '';
      return `<tr class="step${bad ? ' violation' : ''}" id="step-${r.step}" data-step="${r.step}"><td class="mono">${r.alike ? `${r.step}-${r.alike.last}` : r.step}</td><td class="mono">${esc(taskText(r))}</td>${cells}<td class="delta">${violation}${delta}</td></tr>`;
    })
    .join('\n');
  const first = states[0];
  const initial = first
    ? [...new Set([...Object.keys(first.impl), ...Object.keys(first.model)])]
        .map((k) => `<tr><td>${esc(k)}</td><td>${esc(first.impl[k] ?? '')}</td><td>${esc(first.model[k] ?? '')}</td></tr>`)
        .join('')
    : '';
  const stateDiff = diff.length
    ? `<table class="state-diff"><tr><th>field</th><th>implementation (abstracted)</th><th>model (expected)</th></tr>${diff.map((d) => `<tr><td>${esc(d.field)}</td><td class="impl mono">${esc(d.impl)}</td><td class="model mono">${esc(d.model)}</td></tr>`).join('')}</table>`
    : '<p class="muted">After the failing step, abstract(impl) and the model agree: the violation is in what happened, not in where the state ended.</p>';
  const claim = checkClaim(v.id);
  // The script shows the state after a step whose row is clicked: those rows' states.
  const statesJson = JSON.stringify(
    [...drawn].flatMap((step) => {
      const st = stateAt(states, step);
      return st ? [{ ...st, step }] : [];
    }),
  ).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`${e.property}: ${v.id} — ${i.name}`)}</title>
<style>${CSS}</style>
</head>
<body data-ready="0" data-violation="${esc(v.id)}" data-lanes="${lanes}"${lanes > 4 ? ' class="many-lanes"' : ''}>
<header>
<h1>${esc(e.property)} fails: ${esc(v.id)}</h1>
<p class="claim">${esc(claim)}</p>
</header>
<section id="replay">
<h2>Replay</h2>
<pre class="replay"><code>${esc(i.replay)}</code></pre>
${i.replayPath ? `<p class="muted">fast-check's own coordinates: <code>${esc(i.replayPath)}</code></p>` : ''}
</section>
<section id="facts">
<h2>Setting</h2>
<dl class="facts">
<dt>kernel</dt><dd>${esc(e.kernel)}</dd>
<dt>seeded bug</dt><dd>${e.bug ? esc(e.bug) : 'none (the kernel as it is)'}</dd>
<dt>host</dt><dd>${esc(hostLine(s))}</dd>
<dt>schedule</dt><dd><code>[${esc((s.picks ?? s.schedule).join(', '))}]</code></dd>
<dt>corpus entry</dt><dd><code>${esc(i.file)}</code></dd>
<dt>tool</dt><dd>${esc(e.tool)} ${esc(e.version)}</dd>
</dl>
</section>
<section id="script">
<h2>Reproduction script</h2>
<ol class="commands">${s.commands.map((c) => `<li><code>${esc(describe(c))}</code></li>`).join('')}</ol>
</section>
<section id="violation">
<h2>First check that failed</h2>
<div class="violated"><strong>${esc(v.id)}</strong> at step ${v.step}: ${esc(v.message)}</div>
<h3>State after step ${v.step}, where the implementation and the model differ</h3>
${stateDiff}
</section>
<section id="timeline">
<h2>Timeline <span class="muted">(one lane per CPU${n > lanes ? `, CPUs ${lanes - 1}-${n - 1} in the last` : ''}; ${folded.filter((r) => !r.command).length} rows, alike steps of one kind of task in one; click a step or press j/k for its full state)</span></h2>
<div class="scroll">
<table class="timeline">
<thead><tr><th>step</th><th>task</th>${lanesHead}<th>state changes</th></tr></thead>
<tbody>
${body}
</tbody>
</table>
</div>
<details><summary>State after step 0</summary><table><tr><th>field</th><th>implementation</th><th>model</th></tr>${initial}</table></details>
<div id="state-panel" hidden></div>
</section>
<script type="application/json" id="states">${statesJson}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
