// ampio-bridge web page: the small client script shipped in the package (no framework, no
// CDN). The pages work without it (server-rendered); with it, the overview and the house
// refresh in place, the live view streams frames (Server-Sent Events from /api/live), and
// the write controls send their requests with the token as a header.
'use strict';

(function () {
  const body = document.body;
  const page = body.dataset.page;
  const main = document.getElementById('main');

  // ------------------------------------------------------------ write token (this tab only)
  const TOKEN_KEY = 'ampio-bridge-token';
  const tokenForm = document.getElementById('token-form');
  if (tokenForm) {
    const input = document.getElementById('token');
    if (sessionStorage.getItem(TOKEN_KEY)) input.placeholder = 'token set for this tab';
    tokenForm.addEventListener('submit', (e) => {
      e.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      input.value = '';
      input.placeholder = 'token set for this tab';
    });
  }

  function say(text, bad) {
    let out = document.getElementById('write-result');
    if (!out) {
      out = document.createElement('p');
      out.id = 'write-result';
      out.setAttribute('role', 'status');
      main.appendChild(out);
    }
    out.textContent = text;
    out.className = bad ? 'bad' : 'ok';
  }

  function describe(reply) {
    const parts = [];
    for (const [k, v] of Object.entries(reply)) parts.push(`${k} ${typeof v === 'object' ? Object.values(v || {}).join(' ') : v}`);
    return parts.length ? ` (${parts.join(', ')})` : '';
  }

  async function write(action, payload) {
    const token = sessionStorage.getItem(TOKEN_KEY) || '';
    try {
      const res = await fetch(`/api/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(payload),
      });
      const reply = await res.json().catch(() => ({}));
      if (!res.ok) say(`${action}: ${reply.error || res.status}`, true);
      else say(`${action}: done${describe(reply)}`, false);
    } catch (err) {
      say(`${action}: ${err}`, true);
    }
  }

  document.addEventListener('click', (e) => {
    const t = e.target.closest('button[data-write]');
    if (!t) return;
    if (t.dataset.write === 'kick') write('kick', { id: Number(t.dataset.id) });
    else if (t.dataset.write === 'reload') write('reload', {});
    else if (t.dataset.write === 'output')
      write('output', { module: t.dataset.module, kind: t.dataset.kind, channel: Number(t.dataset.channel), on: t.dataset.on === '1' });
  });
  document.addEventListener('submit', (e) => {
    const f = e.target;
    if (f.dataset.write !== 'send') return;
    e.preventDefault();
    const data = new FormData(f);
    write('send', { bus: data.get('bus'), id: data.get('id'), data: data.get('data') });
  });

  // ------------------------------------------------------------ in-place refresh
  const refresh = Number(body.dataset.refresh || '0');
  if (refresh > 0 && main) {
    let busy = false;
    setInterval(async () => {
      if (busy || document.hidden) return;
      // A person typing or holding focus inside main keeps what they are on.
      if (main.contains(document.activeElement) && document.activeElement !== main) return;
      busy = true;
      try {
        const res = await fetch(`${location.pathname + (location.search ? `${location.search}&` : '?')}fragment=1`, { cache: 'no-store' });
        if (res.ok) main.innerHTML = await res.text();
      } catch {
        // the next tick tries again (the bridge may be restarting)
      } finally {
        busy = false;
      }
    }, refresh * 1000);
  }

  // ------------------------------------------------------------ live frames
  if (page === 'live') live();

  function live() {
    const rowsEl = document.getElementById('live-rows');
    const stateEl = document.getElementById('live-state');
    const rateEl = document.getElementById('live-rate');
    const droppedEl = document.getElementById('live-dropped');
    const pauseBtn = document.getElementById('live-pause');
    const busSel = document.getElementById('live-bus');
    const buses = Array.from(busSel.options)
      .slice(1)
      .map((o) => o.value);
    const MAX_ROWS = 200;
    let source = null;
    let paused = false;
    let pending = [];
    let count = 0;
    let dropped = 0;
    let droppedBefore = 0;

    function hex(n, w) {
      return n.toString(16).toUpperCase().padStart(w, '0');
    }
    function time(ms) {
      const d = new Date(ms);
      return `${d.toTimeString().slice(0, 8)}.${String(Math.floor(ms % 1000)).padStart(3, '0')}`;
    }
    function row(f) {
      // [ms, bus, dir, id, flags, len, data]
      const tr = document.createElement('tr');
      const cells = [
        time(f[0]),
        buses[f[1]] || String(f[1]),
        f[2],
        hex(f[3], f[4].includes('e') || f[4].includes('x') ? 8 : 3) + (f[4].includes('r') ? ' R' : '') + (f[4].includes('x') ? ' ERR' : ''),
        String(f[5]),
        f[6].toUpperCase().replace(/(..)(?=.)/g, '$1 '),
      ];
      for (let i = 0; i < cells.length; i++) {
        const td = document.createElement('td');
        td.textContent = cells[i];
        if (i === 3 || i === 5) td.className = 'mono';
        tr.appendChild(td);
      }
      return tr;
    }
    function render() {
      if (pending.length > 0) {
        // Only what fits on screen is drawn: at thousands of frames/s the rest would be gone at once anyway.
        const take = pending.slice(-MAX_ROWS);
        pending = [];
        const frag = document.createDocumentFragment();
        for (let i = take.length - 1; i >= 0; i--) frag.appendChild(row(take[i]));
        rowsEl.insertBefore(frag, rowsEl.firstChild);
        while (rowsEl.childElementCount > MAX_ROWS) rowsEl.removeChild(rowsEl.lastChild);
      }
      requestAnimationFrame(render);
    }
    function connect() {
      const params = new URLSearchParams(location.search);
      const q = new URLSearchParams();
      if (params.get('bus')) q.set('bus', params.get('bus'));
      if (params.get('ids')) q.set('ids', params.get('ids'));
      source = new EventSource(`/api/live${q.toString() ? `?${q}` : ''}`);
      source.onopen = () => {
        stateEl.textContent = 'live';
        droppedBefore = dropped;
      };
      source.onerror = () => {
        stateEl.textContent = paused ? 'paused' : 'reconnecting…';
      };
      source.onmessage = (e) => {
        const msg = JSON.parse(e.data);
        count += msg.frames.length;
        dropped = droppedBefore + msg.dropped;
        for (const f of msg.frames) pending.push(f);
        if (pending.length > MAX_ROWS * 4) pending = pending.slice(-MAX_ROWS);
      };
    }
    setInterval(() => {
      rateEl.textContent = String(count);
      droppedEl.textContent = String(dropped);
      count = 0;
    }, 1000);
    pauseBtn.addEventListener('click', () => {
      paused = !paused;
      pauseBtn.setAttribute('aria-pressed', String(paused));
      pauseBtn.textContent = paused ? 'Resume' : 'Pause';
      if (paused) {
        // Paused = disconnected: the bridge keeps no queue for a viewer who is not looking.
        source.close();
        stateEl.textContent = 'paused';
      } else connect();
    });
    connect();
    requestAnimationFrame(render);
  }
})();
