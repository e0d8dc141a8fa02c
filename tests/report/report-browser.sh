#!/bin/sh
# report-browser.sh RUNLOG TRAIN [SCREENSHOT.png] — `runlog report` opened in
# a real browser (headless Chromium, Debian's `chromium`): runs from
# examples/train (tables with images, artifacts, an alert), `runlog log`
# (three runs, one key each run lacks) and `runlog run` (system metrics,
# console) go into one page; the page's own script must finish
# (body data-rendered="1") with no error (data-errors="0", nothing
# "Uncaught" in the browser's console log), and every chart panel of the
# data must exist with exactly one line per run that has the key. With a
# third argument, a screenshot of the page is written there (docs/report.png).
# Exit 77 (skipped) when /usr/bin/chromium (or $CHROMIUM) is missing.
set -eu
RUNLOG=$1
TRAIN=$2
SHOT=${3:-}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    echo "SKIP: $CHROMIUM not found: the report's browser test needs Debian's chromium" \
         "(apt-get install chromium, scripts/install-deps.sh)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/runs/train" "$tmp/runs/sweep" "$tmp/runs/sys"

"$TRAIN" "$tmp/runs/train" >/dev/null
for i in 1 2 3; do
    for s in 0 1 2 3 4 5 6 7 8 9; do
        loss=$(awk "BEGIN { printf \"%.6f\", 2.0 / ($s + 1) + $i * 0.05 }")
        extra=""
        [ "$i" -ne 3 ] && extra="val/acc=0.$s$i"
        # shellcheck disable=SC2086  # extra is one word or none
        "$RUNLOG" log "$tmp/runs/sweep/lr$i.runlog" --project sweep --name "lr-$i" --step "$s" \
            train/loss="$loss" $extra >/dev/null
    done
    "$RUNLOG" finish "$tmp/runs/sweep/lr$i.runlog"
done
"$RUNLOG" run -o "$tmp/runs/sys/sys.runlog" --name system-demo --interval 0.1 -- \
    sh -c 'i=0; while [ $i -lt 8 ]; do echo "epoch $i"; i=$((i+1)); sleep 0.1; done' >/dev/null

"$RUNLOG" report "$tmp/runs" -o "$tmp/report.html" >/dev/null

browser() {
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
        --user-data-dir="$(mktemp -d "$tmp/profile.XXXXXX")" "$@" "file://$tmp/report.html"
}
browser --enable-logging=stderr --v=0 --dump-dom >"$tmp/dom.html" 2>"$tmp/console.log"
if grep -E 'CONSOLE.*(Uncaught|Error)' "$tmp/console.log"; then
    echo "FAIL: errors in the browser's console"
    exit 1
fi
/usr/bin/python3 - "$tmp/report.html" "$tmp/dom.html" <<'PY'
import html.parser, json, re, sys

page = open(sys.argv[1], encoding='utf-8').read()
dom = open(sys.argv[2], encoding='utf-8').read()
m = re.search(r'<script type="application/json" id="runlog-data">(.*?)</script>', page, re.S)
data = json.loads(m.group(1))
runs = data['runs']

class DOM(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.body, self.panels, self.canvases, self.images, self.rows = {}, [], [], 0, 0
        self.errors = ''
        self.in_errors = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'body' and not self.body:
            self.body = a
        if 'panel' in (a.get('class') or '').split():
            self.panels.append(a)
        if tag == 'canvas':
            self.canvases.append(int(a.get('width', '0')))
        if tag == 'img' and (a.get('src') or '').startswith('data:image/'):
            self.images += 1
        if tag == 'tr' and 'data-run' in a:
            self.rows += 1
        self.in_errors = a.get('id') == 'runlog-errors'
    def handle_data(self, d):
        if self.in_errors:
            self.errors += d

p = DOM()
p.feed(dom)
fail = []
if p.body.get('data-rendered') != '1':
    fail.append('the page script did not finish (no data-rendered="1")')
if p.body.get('data-errors') != '0':
    fail.append('errors in the page: %s %s' % (p.body.get('data-errors'), p.errors.strip()))
labels = {}
names = [r['name'] for r in runs]
for r in runs:
    labels[r['id']] = r['name'] if names.count(r['name']) == 1 else '%s (%s)' % (r['name'], r['id'][:8])
want = {}
for field in ('metrics', 'system'):
    for r in runs:
        for k in r[field]:
            want.setdefault((field, k), []).append(labels[r['id']])
got = {(a['data-field'], a['data-key']): a.get('data-lines', '').split('\n') for a in p.panels}
for key, lines in want.items():
    if key not in got:
        fail.append('no panel for %s %s' % key)
    elif sorted(got[key]) != sorted(lines):
        fail.append('panel %s %s: lines %s, expected %s' % (key[0], key[1], got[key], lines))
if len(got) != len(want):
    fail.append('%d panels, expected %d' % (len(got), len(want)))
if not any(f == 'system' for f, _ in want):
    fail.append('no system metrics panel (runlog run sampled none?)')
if not p.canvases or min(p.canvases) <= 0:
    fail.append('a chart was drawn with no width')
if p.rows != len(runs):
    fail.append('runs table: %d rows, expected %d' % (p.rows, len(runs)))
if p.images == 0:
    fail.append('no inline image')
if fail:
    print('FAIL:\n  ' + '\n  '.join(fail))
    sys.exit(1)
print('ok: %d runs, %d panels, %d images, no errors' % (len(runs), len(got), p.images))
PY
if [ -n "$SHOT" ]; then
    browser --window-size=1400,1400 --screenshot="$tmp/shot.png" >/dev/null 2>&1
    cp "$tmp/shot.png" "$SHOT"
    echo "screenshot: $SHOT"
fi
