// hipdrop's 3D viewer: draws each recorded run of report.html (bones, muscle paths,
// ground reaction, centre of mass, FPPA) on a 2D canvas with an orthographic camera.
//
// Why a 2D canvas and not three.js or WebGL: the scene is about 150 line segments and a
// few dots per frame; the canvas draws that at the display's frame rate on any laptop or
// phone, needs no library in the page (the report stays one small file that can be sent
// by mail) and no GPU (it also draws in headless browsers and old machines).
//
// World axes are OpenSim's ground: x anterior, y up, z to the right (metres in the data
// as whole millimetres). The data come from the recorded files of each run (see
// src/plot/viewer.rs); nothing here simulates.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('hv-data').textContent);
  const runs = data.runs;
  const LM = ['neck', 'asis_r', 'asis_l', 'hip_r', 'hip_l', 'knee_r', 'knee_l',
    'ankle_r', 'ankle_l', 'toe_r', 'toe_l', 'com'];
  const L = {};
  LM.forEach(function (n, i) { L[n] = i; });
  const VIEWS = {
    behind: { yaw: 0, pitch: 0.0 },
    front: { yaw: Math.PI, pitch: 0.0 },
    side: { yaw: -Math.PI / 2, pitch: 0.0 }
  };
  const BG = '#fbfbf8';
  const STANCE = '#2a6fb0';
  const SWING = '#e08a2a';
  const BONE = '#8a8a8a';
  const $ = function (id) { return document.getElementById(id); };

  const st = {
    run: 0, run2: runs.length > 1 ? runs.length - 1 : 0, compare: false,
    t: 0, playing: false, speed: 0.5, view: 'behind',
    yaw: 0, pitch: 0, zoom: 1, last: null, drawn: [null, null]
  };

  // --- Time and interpolation -------------------------------------------------------
  function duration(run) { return run.t[run.t.length - 1]; }
  // The clock of what is shown: the longer of the runs on screen (each view shows its
  // run as it ended once its time has passed).
  function shownDuration() {
    const d = duration(runs[st.run]);
    return st.compare ? Math.max(d, duration(runs[st.run2])) : d;
  }

  // The frame at or before t and the fraction to the next one.
  function locate(run, t) {
    const ts = run.t;
    if (t <= ts[0]) return [0, 0];
    if (t >= ts[ts.length - 1]) return [ts.length - 1, 0];
    let lo = 0, hi = ts.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (ts[mid] <= t) lo = mid; else hi = mid;
    }
    const f = (t - ts[lo]) / (ts[hi] - ts[lo]);
    return [lo, f];
  }

  function lerpArr(a, b, f) {
    if (!b || f === 0 || a.length !== b.length) return a;
    const out = new Array(a.length);
    for (let i = 0; i < a.length; i++) {
      out[i] = (a[i] === null || b[i] === null) ? a[i] : a[i] + (b[i] - a[i]) * f;
    }
    return out;
  }

  function frame(run, t) {
    const [i, f] = locate(run, t);
    const j = Math.min(i + 1, run.t.length - 1);
    const lm = lerpArr(run.lm[i], run.lm[j], f);
    const paths = run.paths[i].map(function (p, m) { return lerpArr(p, run.paths[j][m], f); });
    const grf = run.grf ? lerpArr(run.grf[i], run.grf[j], f) : null;
    const measures = {};
    for (const k in run.measures) {
      const a = run.measures[k][i], b = run.measures[k][j];
      measures[k] = (a === null || b === null) ? a : a + (b - a) * f;
    }
    return { lm: lm, paths: paths, grf: grf, measures: measures };
  }

  function point(lm, name) {
    const k = 3 * L[name];
    if (lm[k] === null) return null;
    return [lm[k] / 1000, lm[k + 1] / 1000, lm[k + 2] / 1000];
  }

  // --- Camera ----------------------------------------------------------------------
  function camera(canvas, run) {
    const yaw = st.yaw, pitch = st.pitch;
    const f = [Math.cos(pitch) * Math.cos(yaw), -Math.sin(pitch), Math.cos(pitch) * Math.sin(yaw)];
    // up: world y made orthogonal to the view direction; right = forward x up.
    let u = [-f[1] * f[0], 1 - f[1] * f[1], -f[1] * f[2]];
    const un = Math.hypot(u[0], u[1], u[2]);
    u = [u[0] / un, u[1] / un, u[2] / un];
    const r = [f[1] * u[2] - f[2] * u[1], f[2] * u[0] - f[0] * u[2], f[0] * u[1] - f[1] * u[0]];
    // Centred on the pelvis at the start of the run, so that a drop or a fall shows.
    const lm0 = run.lm[0];
    const hr = point(lm0, 'hip_r'), hl = point(lm0, 'hip_l');
    // A step-down also shows the floor below the box.
    const below = run.box_m || 0;
    const c = [(hr[0] + hl[0]) / 2, 0.9 - below / 2, (hr[2] + hl[2]) / 2];
    const scale = canvas.height / (1.9 + below) * st.zoom;
    return {
      f: f, u: u, r: r, right: r,
      project: function (p) {
        const d = [p[0] - c[0], p[1] - c[1], p[2] - c[2]];
        return [canvas.width / 2 + scale * (d[0] * r[0] + d[1] * r[1] + d[2] * r[2]),
          canvas.height / 2 - scale * (d[0] * u[0] + d[1] * u[1] + d[2] * u[2]),
          d[0] * f[0] + d[1] * f[1] + d[2] * f[2]];
      }
    };
  }

  // Grey at rest to red at full activation.
  function activationColour(a) {
    const x = Math.max(0, Math.min(1, a / 100));
    const rr = Math.round(175 + 55 * x), gg = Math.round(175 - 150 * x), bb = Math.round(175 - 150 * x);
    return 'rgb(' + rr + ',' + gg + ',' + bb + ')';
  }

  // --- Drawing ---------------------------------------------------------------------
  function line(ctx, pts, colour, width, dash) {
    ctx.beginPath();
    ctx.setLineDash(dash || []);
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.moveTo(pts[0][0], pts[0][1]);
    for (let i = 1; i < pts.length; i++) ctx.lineTo(pts[i][0], pts[i][1]);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  function dot(ctx, p, r, fill, stroke) {
    ctx.beginPath();
    ctx.arc(p[0], p[1], r, 0, 2 * Math.PI);
    if (fill) { ctx.fillStyle = fill; ctx.fill(); }
    if (stroke) { ctx.strokeStyle = stroke; ctx.lineWidth = 1.5; ctx.stroke(); }
  }

  // Within about 18 degrees of straight behind or in front (yaw and pitch): a 2D FPPA
  // and a frontal pelvic tilt mean something.
  function frontalView(cam) { return Math.abs(cam.f[0]) > 0.95; }

  // The knee's FPPA as the camera sees it: the angle between the hip-knee line extended
  // and the knee-ankle line, positive when the knee is medial of the hip-ankle line.
  function screenFppa(cam, run, lm) {
    const s = run.stance === 'left' ? '_l' : '_r';
    const h = point(lm, 'hip' + s), k = point(lm, 'knee' + s), a = point(lm, 'ankle' + s);
    if (!h || !k || !a) return null;
    const H = cam.project(h), K = cam.project(k), A = cam.project(a);
    const t1 = [K[0] - H[0], K[1] - H[1]], t2 = [A[0] - K[0], A[1] - K[1]];
    const ang = Math.atan2(t1[0] * t2[1] - t1[1] * t2[0], t1[0] * t2[0] + t1[1] * t2[1]);
    // Medial (toward the other leg) on the screen, y down.
    const mw = run.stance === 'left' ? [0, 0, 1] : [0, 0, -1];
    const ms = [mw[0] * cam.r[0] + mw[1] * cam.r[1] + mw[2] * cam.r[2],
      -(mw[0] * cam.u[0] + mw[1] * cam.u[1] + mw[2] * cam.u[2])];
    // The knee's offset from the hip-ankle line, toward medial or lateral.
    const ha = [A[0] - H[0], A[1] - H[1]];
    const u = ((K[0] - H[0]) * ha[0] + (K[1] - H[1]) * ha[1]) / (ha[0] * ha[0] + ha[1] * ha[1] || 1);
    const off = [K[0] - (H[0] + u * ha[0]), K[1] - (H[1] + u * ha[1])];
    const side = off[0] * ms[0] + off[1] * ms[1] >= 0 ? 1 : -1;
    return { deg: Math.abs(ang) * 180 / Math.PI * side, H: H, K: K, A: A };
  }

  function draw(canvas, run, t) {
    const ctx = canvas.getContext('2d');
    const cam = camera(canvas, run);
    const fr = frame(run, t);
    const lm = fr.lm;
    ctx.fillStyle = BG;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    // Floor grid under the stance foot; for a step-down, the box it stands on (its top is
    // y = 0) and the floor below.
    const s = run.stance === 'left' ? '_l' : '_r', o = run.stance === 'left' ? '_r' : '_l';
    const foot = point(run.lm[0], 'ankle' + s);
    const floorY = run.box_m ? -run.box_m : 0;
    for (let k = -6; k <= 6; k++) {
      const g = k * 0.1;
      line(ctx, [cam.project([foot[0] - 0.6, floorY, foot[2] + g]), cam.project([foot[0] + 0.6, floorY, foot[2] + g])], '#e4e4de', 1);
      line(ctx, [cam.project([foot[0] + g, floorY, foot[2] - 0.6]), cam.project([foot[0] + g, floorY, foot[2] + 0.6])], '#e4e4de', 1);
    }
    if (run.box_m) {
      // The model knows only the box's height: drawn as wide as the stance foot, so that
      // the swing foot (beside it) never seems to pass through it.
      const x0 = foot[0] - 0.1, x1 = foot[0] + 0.22, z0 = foot[2] - 0.06, z1 = foot[2] + 0.06;
      const c = [[x0, z0], [x1, z0], [x1, z1], [x0, z1]];
      for (let k = 0; k < 4; k++) {
        const a = c[k], b = c[(k + 1) % 4];
        line(ctx, [cam.project([a[0], 0, a[1]]), cam.project([b[0], 0, b[1]])], '#9a9a90', 1.5);
        line(ctx, [cam.project([a[0], floorY, a[1]]), cam.project([b[0], floorY, b[1]])], '#9a9a90', 1.5);
        line(ctx, [cam.project([a[0], 0, a[1]]), cam.project([a[0], floorY, a[1]])], '#9a9a90', 1.5);
      }
    }
    // Bones and muscles, back to front.
    const items = [];
    function bone(a, b, colour, width) {
      const pa = point(lm, a), pb = point(lm, b);
      if (!pa || !pb) return;
      const A = cam.project(pa), B = cam.project(pb);
      items.push({ z: (A[2] + B[2]) / 2, pts: [A, B], colour: colour, width: width });
    }
    const hr = point(lm, 'hip_r'), hl = point(lm, 'hip_l');
    if (hr && hl) {
      const mid = [(hr[0] + hl[0]) / 2, (hr[1] + hl[1]) / 2, (hr[2] + hl[2]) / 2];
      const neck = point(lm, 'neck');
      if (neck) {
        const A = cam.project(mid), B = cam.project(neck);
        items.push({ z: (A[2] + B[2]) / 2 + 0.05, pts: [A, B], colour: BONE, width: 14 });
      }
    }
    bone('asis_r', 'asis_l', BONE, 9);
    bone('asis_r', 'hip_r', BONE, 7);
    bone('asis_l', 'hip_l', BONE, 7);
    bone('hip' + s, 'knee' + s, STANCE, 13);
    bone('knee' + s, 'ankle' + s, STANCE, 11);
    bone('ankle' + s, 'toe' + s, STANCE, 7);
    bone('hip' + o, 'knee' + o, SWING, 13);
    bone('knee' + o, 'ankle' + o, SWING, 11);
    bone('ankle' + o, 'toe' + o, SWING, 7);
    const hits = [];
    fr.paths.forEach(function (p, m) {
      const act = p[0], force = p[1];
      const pts = [];
      for (let k = 2; k + 2 < p.length; k += 3) pts.push(cam.project([p[k] / 1000, p[k + 1] / 1000, p[k + 2] / 1000]));
      if (pts.length < 2) return;
      const z = pts.reduce(function (acc, q) { return acc + q[2]; }, 0) / pts.length;
      const width = 1 + 4 * Math.sqrt(Math.max(0, force) / 3000);
      items.push({ z: z - 0.01, pts: pts, colour: activationColour(act), width: width, alpha: 0.8 });
      hits.push({ muscle: m, pts: pts, act: act, force: force });
    });
    items.sort(function (a, b) { return b.z - a.z; });
    items.forEach(function (it) {
      ctx.globalAlpha = it.alpha || 1;
      line(ctx, it.pts, it.colour, it.width);
    });
    ctx.globalAlpha = 1;
    ['hip', 'knee', 'ankle'].forEach(function (j) {
      [s, o].forEach(function (side) {
        const p = point(lm, j + side);
        if (p) dot(ctx, cam.project(p), 4, '#fff', '#333');
      });
    });
    // ASIS and the level line through the stance side.
    const as = point(lm, 'asis' + s), ao = point(lm, 'asis' + o);
    let tilt = null;
    if (as && ao) {
      const AS = cam.project(as), AO = cam.project(ao);
      const level = cam.project([ao[0], as[1], ao[2]]);
      const ext = [level[0] + (level[0] - AS[0]) * 0.35, level[1] + (level[1] - AS[1]) * 0.35];
      const back = [AS[0] - (level[0] - AS[0]) * 0.35, AS[1] - (level[1] - AS[1]) * 0.35];
      line(ctx, [back, ext], '#555', 1.5, [6, 4]);
      line(ctx, [AS, AO], '#111', 2.5);
      dot(ctx, AS, 4.5, '#111');
      dot(ctx, AO, 4.5, '#111');
      // The drawn tilt: swing side lower is positive, as the recorded pelvic drop.
      const dx = Math.abs(AO[0] - AS[0]);
      tilt = frontalView(cam) && dx > 3 ? Math.atan2(AO[1] - AS[1], dx) * 180 / Math.PI : null;
    }
    // Centre of mass and its vertical.
    const com = point(lm, 'com');
    if (com) {
      const C = cam.project(com), F = cam.project([com[0], 0, com[2]]);
      line(ctx, [C, F], '#7a3fa0', 1.5, [3, 4]);
      dot(ctx, C, 6, '#fff', '#7a3fa0');
      dot(ctx, C, 2.5, '#7a3fa0');
    }
    // Ground reaction at the centre of pressure: 0.5 m per body weight.
    if (fr.grf) {
      const g = fr.grf, k = 0.5 / run.body_weight_n;
      const P = [g[3] / 1000, g[4] / 1000, g[5] / 1000];
      const Q = [P[0] + g[0] * k, P[1] + g[1] * k, P[2] + g[2] * k];
      const A = cam.project(P), B = cam.project(Q);
      line(ctx, [A, B], '#2f9e44', 3.5);
      const ang = Math.atan2(B[1] - A[1], B[0] - A[0]);
      ctx.beginPath();
      ctx.fillStyle = '#2f9e44';
      ctx.moveTo(B[0], B[1]);
      ctx.lineTo(B[0] - 11 * Math.cos(ang - 0.4), B[1] - 11 * Math.sin(ang - 0.4));
      ctx.lineTo(B[0] - 11 * Math.cos(ang + 0.4), B[1] - 11 * Math.sin(ang + 0.4));
      ctx.fill();
    }
    // FPPA as the camera sees it.
    let fppa = null;
    if (frontalView(cam)) {
      const q = screenFppa(cam, run, lm);
      if (q) {
        fppa = q.deg;
        const d = [q.K[0] - q.H[0], q.K[1] - q.H[1]];
        const ext = [q.K[0] + d[0] * 0.45, q.K[1] + d[1] * 0.45];
        line(ctx, [q.K, ext], '#111', 1.5, [5, 4]);
        line(ctx, [q.H, q.K, q.A], '#111', 1.5);
        ctx.fillStyle = '#111';
        ctx.font = '13px sans-serif';
        ctx.fillText('FPPA ' + fppa.toFixed(1) + '\u00b0', q.K[0] + 12, q.K[1] + 4);
      }
    }
    ctx.fillStyle = '#333';
    ctx.font = '13px sans-serif';
    ctx.fillText(run.id + '  t = ' + t.toFixed(2) + ' s  (' + st.view + ')', 8, 18);
    const sx = function (n) { const p = point(lm, n); return p ? cam.project(p)[0] : null; };
    return { tilt: tilt, fppa: fppa, hits: hits, cam: cam, t: t, fr: fr, hipR: sx('hip_r'), hipL: sx('hip_l') };
  }

  // --- Read-back for tests and for the link --------------------------------------------
  function canvasStats(canvas) {
    const ctx = canvas.getContext('2d');
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0, hash = 2166136261;
    for (let i = 0; i < img.length; i += 4) {
      if (img[i] !== 251 || img[i + 1] !== 251 || img[i + 2] !== 248) inked++;
      if ((i & 28) === 0) hash = Math.imul(hash ^ (img[i] + 3 * img[i + 1] + 7 * img[i + 2]), 16777619) >>> 0;
    }
    return { inked: inked / (img.length / 4), hash: hash };
  }

  // --- Controls --------------------------------------------------------------------
  const canvases = [$('hv-canvas'), $('hv-canvas2')];
  const runSel = $('hv-run'), runSel2 = $('hv-run2');
  runs.forEach(function (r, i) {
    [runSel, runSel2].forEach(function (sel) {
      const o = document.createElement('option');
      o.value = String(i);
      o.textContent = r.id + (r.caption ? ': ' + r.caption : '') + ' (' + r.status + ')';
      sel.appendChild(o);
    });
  });

  // One run: nothing to compare it with.
  if (runs.length < 2) $('hv-compare').parentNode.hidden = true;

  // The strength slider: the distinct values of the swept strength key.
  const sliderKey = data.slider;
  const sliderVals = sliderKey ? Array.from(new Set(runs.map(function (r) { return r.params[sliderKey]; })
    .filter(function (v) { return typeof v === 'number'; }))).sort(function (a, b) { return a - b; }) : [];
  const slider = $('hv-strength');
  if (sliderVals.length > 1) {
    $('hv-strength-box').hidden = false;
    $('hv-strength-name').textContent = sliderKey.replace('strength.', '').replace(/_/g, ' ');
    slider.max = String(sliderVals.length - 1);
  }
  function pct(v) { return Math.round(v * 100) + ' %'; }
  function syncSlider() {
    if (sliderVals.length < 2) return;
    const v = runs[st.run].params[sliderKey];
    const k = sliderVals.indexOf(v);
    if (k >= 0) slider.value = String(k);
    $('hv-strength-value').textContent = pct(sliderVals[Number(slider.value)]);
  }
  slider.addEventListener('input', function () {
    const want = sliderVals[Number(slider.value)];
    // The run nearest to the chosen value; among equals, the one that differs least from
    // the current run in the other swept parameters (in a grid: the same mass, ...).
    const cur = runs[st.run].params;
    let best = st.run, bestD = Infinity, bestO = Infinity;
    runs.forEach(function (r, i) {
      const d = Math.abs(r.params[sliderKey] - want);
      let other = 0;
      for (const k in r.params) if (k !== sliderKey && r.params[k] !== cur[k]) other++;
      if (d < bestD - 1e-12 || (Math.abs(d - bestD) <= 1e-12 && other < bestO)) { best = i; bestD = d; bestO = other; }
    });
    setRun(best);
  });

  function setRun(i) {
    st.run = i;
    runSel.value = String(i);
    syncSlider();
    render();
    link();
  }
  runSel.addEventListener('change', function () { setRun(Number(runSel.value)); });
  runSel2.addEventListener('change', function () { st.run2 = Number(runSel2.value); render(); link(); });
  $('hv-compare').addEventListener('change', function (e) {
    st.compare = e.target.checked;
    $('hv-view2').hidden = !st.compare;
    render();
    link();
  });

  function setView(v) {
    st.view = v;
    if (VIEWS[v]) { st.yaw = VIEWS[v].yaw; st.pitch = VIEWS[v].pitch; }
    document.querySelectorAll('.hv-bar button[data-view]').forEach(function (b) {
      b.classList.toggle('on', b.getAttribute('data-view') === v);
    });
    render();
    link();
  }
  document.querySelectorAll('.hv-bar button[data-view]').forEach(function (b) {
    b.addEventListener('click', function () {
      const v = b.getAttribute('data-view');
      if (v === 'free') { st.pitch = 0.25; st.yaw = -0.6; }
      setView(v);
    });
  });

  const timeBar = $('hv-time');
  timeBar.addEventListener('input', function () {
    st.t = Number(timeBar.value) / 1000 * shownDuration();
    render();
    link();
  });
  $('hv-speed').addEventListener('change', function (e) { st.speed = Number(e.target.value); });
  $('hv-play').addEventListener('click', function () {
    st.playing = !st.playing;
    $('hv-play').textContent = st.playing ? 'Pause' : 'Play';
    st.last = null;
    if (st.playing) {
      if (st.t >= shownDuration() - 1e-9) st.t = 0;
      requestAnimationFrame(tick);
    } else {
      link();
    }
  });
  function tick(now) {
    if (!st.playing) return;
    if (st.last !== null) {
      st.t += (now - st.last) / 1000 * st.speed;
      const d = shownDuration();
      if (st.t > d) st.t = 0;
    }
    st.last = now;
    render();
    requestAnimationFrame(tick);
  }

  // Orbit and zoom.
  let drag = null;
  canvases.forEach(function (c) {
    c.addEventListener('pointerdown', function (e) { drag = [e.clientX, e.clientY]; c.setPointerCapture(e.pointerId); });
    c.addEventListener('pointerup', function () { drag = null; });
    c.addEventListener('pointermove', function (e) {
      if (drag) {
        st.yaw += (e.clientX - drag[0]) * 0.01;
        st.pitch = Math.max(-1.2, Math.min(1.2, st.pitch + (e.clientY - drag[1]) * 0.01));
        drag = [e.clientX, e.clientY];
        if (st.view !== 'free') setView('free'); else render();
        return;
      }
      hover(c, e);
    });
    c.addEventListener('pointerleave', function () { $('hv-tip').hidden = true; });
    c.addEventListener('wheel', function (e) {
      e.preventDefault();
      st.zoom = Math.max(0.5, Math.min(4, st.zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1)));
      render();
    }, { passive: false });
  });

  // Hover: the nearest muscle path within 6 pixels; the glutes, TFL and adductors first.
  function hover(c, e) {
    const k = c === canvases[0] ? 0 : 1;
    const drawn = st.drawn[k];
    const tip = $('hv-tip');
    if (!drawn) { tip.hidden = true; return; }
    const rect = c.getBoundingClientRect();
    const x = (e.clientX - rect.left) * c.width / rect.width, y = (e.clientY - rect.top) * c.height / rect.height;
    const run = runs[k === 0 ? st.run : st.run2];
    let best = null;
    drawn.hits.forEach(function (h) {
      for (let i = 0; i + 1 < h.pts.length; i++) {
        const a = h.pts[i], b = h.pts[i + 1];
        const dx = b[0] - a[0], dy = b[1] - a[1];
        const l2 = dx * dx + dy * dy || 1;
        const u = Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / l2));
        let d = Math.hypot(a[0] + u * dx - x, a[1] + u * dy - y);
        if (run.muscles[h.muscle].key) d -= 1;
        if (d < 6 && (!best || d < best.d)) best = { d: d, h: h };
      }
    });
    if (!best) { tip.hidden = true; return; }
    const m = run.muscles[best.h.muscle];
    tip.textContent = (m.label || m.name) + ': activation ' + Math.round(best.h.act) + ' %, force ' + Math.round(best.h.force) + ' N';
    tip.style.left = (e.clientX + 14) + 'px';
    tip.style.top = (e.clientY + 10) + 'px';
    tip.hidden = false;
  }

  // --- Measures beside the view -------------------------------------------------------
  function measuresTable(frames) {
    const tab = $('hv-measures');
    let h = '<tr><th>at ' + st.t.toFixed(2) + ' s</th>' + frames.map(function (f) {
      const d = duration(f.run);
      // A run that ended earlier (it fell) is shown as it ended.
      return '<th>' + f.run.id.split('_')[0] + (st.t > d + 1e-9 ? ' (ended ' + d.toFixed(2) + ' s)' : '') + '</th>';
    }).join('') + '</tr>';
    data.measures.forEach(function (m) {
      if (!frames.some(function (f) { return m.name in f.fr.measures; })) return;
      h += '<tr title="' + m.meaning.replace(/"/g, '&quot;') + '"><td>' + m.label + (m.unit ? ' (' + m.unit + ')' : '') + '</td>';
      frames.forEach(function (f) {
        const v = f.fr.measures[m.name];
        // No "-0.0": a sign where none is meant.
        const text = v === null || v === undefined ? '\u2013' : (Math.abs(v) < 0.5 * Math.pow(10, -m.decimals) ? 0 : v).toFixed(m.decimals);
        h += '<td>' + text + '</td>';
      });
      h += '</tr>';
    });
    tab.innerHTML = h;
  }

  function caption(r) { return r.id + (r.caption ? ': ' + r.caption : '') + ' (' + r.status + ')'; }

  function render() {
    const r1 = runs[st.run];
    st.drawn[0] = draw(canvases[0], r1, Math.min(st.t, duration(r1)));
    $('hv-caption').textContent = caption(r1);
    const frames = [{ run: r1, fr: st.drawn[0].fr }];
    if (st.compare) {
      const r2 = runs[st.run2];
      st.drawn[1] = draw(canvases[1], r2, Math.min(st.t, duration(r2)));
      $('hv-caption2').textContent = caption(r2);
      frames.push({ run: r2, fr: st.drawn[1].fr });
    }
    const d = shownDuration();
    timeBar.value = String(Math.round(d > 0 ? st.t / d * 1000 : 0));
    $('hv-clock').textContent = st.t.toFixed(2) + ' s';
    measuresTable(frames);
  }

  // --- Deep link: #run=<id>&t=<s>&view=<preset>[&compare=<id>] ---------------------------
  function link() {
    let h = 'run=' + encodeURIComponent(runs[st.run].id) + '&t=' + st.t.toFixed(2) + '&view=' + st.view;
    if (st.compare) h += '&compare=' + encodeURIComponent(runs[st.run2].id);
    $('hv-link').href = '#' + h;
    if (!st.playing && history.replaceState) history.replaceState(null, '', '#' + h);
  }
  function note(text) { $('hv-note').textContent = text; $('hv-note').hidden = !text; }
  if (data.total_runs > runs.length) {
    $('hv-total').textContent = ' (' + runs.length + ' of the ' + data.total_runs + ' runs, evenly spaced)';
  }

  function fromHash() {
    note('');
    const q = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      const i = kv.indexOf('=');
      if (i > 0) q[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
    });
    const find = function (id) {
      let i = runs.findIndex(function (r) { return r.id === id; });
      if (i < 0) i = runs.findIndex(function (r) { return r.id.split('_')[0] === id; });
      return i;
    };
    if (q.run !== undefined && find(q.run) >= 0) st.run = find(q.run);
    else if (q.run !== undefined) note('run ' + q.run + ' is not in this viewer (it shows ' + runs.length + ' of the ' + data.total_runs + ' runs); showing ' + runs[st.run].id);
    if (q.compare !== undefined && find(q.compare) >= 0) { st.run2 = find(q.compare); st.compare = true; }
    if (q.compare === undefined) st.compare = false;
    if (q.t !== undefined && isFinite(Number(q.t))) st.t = Math.max(0, Math.min(Number(q.t), shownDuration()));
    const v = VIEWS[q.view] || q.view === 'free' ? q.view : 'behind';
    runSel.value = String(st.run);
    runSel2.value = String(st.run2);
    $('hv-compare').checked = st.compare;
    $('hv-view2').hidden = !st.compare;
    syncSlider();
    if (v === 'free') { st.pitch = 0.25; st.yaw = -0.6; }
    setView(v);
  }
  window.addEventListener('hashchange', function () { if (!st.playing) fromHash(); });

  fromHash();

  // What the page drew, for the browser test and for anyone checking a figure.
  window.hipdropViewer = {
    ready: true,
    // Where on the page (CSS pixels) the middle of a drawn muscle's path is, for a
    // pointer test: the first muscle whose name starts with `prefix`.
    muscleAt: function (prefix) {
      const run = runs[st.run], drawn = st.drawn[0];
      if (!drawn) return null;
      const h = drawn.hits.find(function (x) { return run.muscles[x.muscle].name.indexOf(prefix) === 0; });
      if (!h) return null;
      const k = Math.floor((h.pts.length - 1) / 2);
      const p = [(h.pts[k][0] + h.pts[k + 1][0]) / 2, (h.pts[k][1] + h.pts[k + 1][1]) / 2];
      const c = canvases[0], rect = c.getBoundingClientRect();
      return { x: rect.left + p[0] * rect.width / c.width, y: rect.top + p[1] * rect.height / c.height };
    },
    // Milliseconds to draw one frame (both views when side by side), over n frames
    // spread across the run.
    benchmark: function (n) {
      const t0 = st.t, d = duration(runs[st.run]);
      const start = performance.now();
      for (let i = 0; i < n; i++) { st.t = d * i / n; render(); }
      const ms = (performance.now() - start) / n;
      st.t = t0;
      render();
      return ms;
    },
    state: function () {
      const r = runs[st.run];
      const fr = frame(r, st.t);
      const c = canvasStats(canvases[0]);
      return {
        run: r.id, t: st.t, view: st.view, runs: runs.length, compare: st.compare ? runs[st.run2].id : null,
        pelvisTiltDrawnDeg: st.drawn[0] ? st.drawn[0].tilt : null,
        fppaDrawnDeg: st.drawn[0] ? st.drawn[0].fppa : null,
        recordedDropDeg: fr.measures.pelvic_drop_deg,
        inked: c.inked, hash: c.hash, strength: sliderVals.length > 1 ? sliderVals[Number(slider.value)] : null,
        hipRightX: st.drawn[0] ? st.drawn[0].hipR : null, hipLeftX: st.drawn[0] ? st.drawn[0].hipL : null,
        tDrawn: st.drawn[0] ? st.drawn[0].t : null, t2Drawn: st.compare && st.drawn[1] ? st.drawn[1].t : null,
        // The pelvic drop the measures table shows for the first run.
        tableDrop: (function () {
          const row = Array.from(document.querySelectorAll('#hv-measures tr')).find(function (tr) {
            return tr.firstChild && tr.firstChild.textContent === 'pelvic drop (deg)';
          });
          return row ? Number(row.children[1].textContent) : null;
        })()
      };
    }
  };
})();
