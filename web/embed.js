// kubeplay embed: live Kubernetes playgrounds in documentation pages. Include it once:
//
//   <script src="https://kubeplay.example/embed.js" defer></script>
//
// and mark the blocks to bring to life:
//
//   <pre class="kubeplay" data-script="sleep 10s; kubectl get pods">apiVersion: v1 …</pre>
//   ```kubeplay  (Markdown: any generator that writes <code class="language-kubeplay">)
//   <kubeplay-embed script="kubectl get pods" seed="3" panes="cluster,console">…</kubeplay-embed>
//
// Each becomes an iframe of the playground, created only when the reader scrolls it into
// view or presses Run (`load="click"` waits for Run). Frames size themselves to their
// content and follow the page's light/dark theme through postMessage, checked by origin on
// both sides. Options (attributes; `data-` prefixed on <pre>/<code>): script, seed, panes
// (editor,cluster,console,events), readonly, autoplay, speed, height, lang, theme, load,
// link (a kubeplay share link to embed instead of the block's manifest).
// No framework and no build step.
(function () {
  'use strict';
  if (window.__kubeplayEmbed) return;
  window.__kubeplayEmbed = true;

  var script = document.currentScript;
  var base = new URL('./', script && script.src ? script.src : location.href);
  var ORIGIN = base.origin;
  var OPTIONS = ['script', 'seed', 'panes', 'readonly', 'autoplay', 'speed', 'height', 'lang', 'theme', 'load', 'link'];
  var frames = {};
  var count = 0;

  function b64url(text) {
    var bytes = new TextEncoder().encode(text);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // The host page's theme: an explicit attribute (Docusaurus, Bootstrap), mdBook's or
  // Tailwind's class on <html>, else the reader's system setting.
  function hostTheme() {
    var html = document.documentElement;
    var attr = html.getAttribute('data-theme') || html.getAttribute('data-bs-theme') || html.getAttribute('data-color-scheme');
    if (attr === 'dark' || attr === 'light') return attr;
    var dark = ['coal', 'navy', 'ayu', 'dark'];
    for (var i = 0; i < dark.length; i++) if (html.classList.contains(dark[i])) return 'dark';
    if (html.classList.contains('light') || html.classList.contains('rust')) return 'light';
    return window.matchMedia && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }

  function option(el, name) {
    var v = el.getAttribute(name);
    if (v == null) v = el.getAttribute('data-' + name);
    if (v == null && el.parentElement && el.parentElement.tagName === 'PRE') v = el.parentElement.getAttribute('data-' + name);
    return v;
  }

  function source(el) {
    var inner = el.querySelector && el.querySelector('script[type="text/yaml"], script[type="application/yaml"], pre, code');
    return (inner || el).textContent.replace(/^\n/, '');
  }

  function frameUrl(el, id) {
    var params = new URLSearchParams({ embed: '1', id: id });
    if (location.origin && location.origin !== 'null') params.set('host', location.origin);
    var o = {};
    OPTIONS.forEach(function (name) { o[name] = option(el, name); });
    params.set('panes', o.panes || 'editor,cluster,console');
    ['readonly', 'autoplay', 'speed', 'height', 'lang'].forEach(function (k) {
      if (o[k] != null) params.set(k, o[k] === '' ? '1' : o[k]);
    });
    params.set('theme', o.theme || hostTheme());
    var fragment;
    if (o.link) {
      fragment = o.link.slice(o.link.indexOf('#') + 1);
    } else {
      fragment = 'm=' + b64url(source(el));
      if (o.script) fragment += '&c=' + b64url(o.script);
      if (o.seed) fragment += '&seed=' + encodeURIComponent(o.seed);
    }
    return { url: base.href + '?' + params.toString() + '#' + fragment, lazy: o.load !== 'click', height: o.height, follow: !o.theme };
  }

  function mount(el) {
    if (el.__kubeplay) return;
    el.__kubeplay = true;
    var id = 'kubeplay-' + (++count);
    var target = el.tagName === 'CODE' && el.parentElement && el.parentElement.tagName === 'PRE' ? el.parentElement : el;
    var setup = frameUrl(el, id);
    var box = document.createElement('div');
    box.className = 'kubeplay-embed';
    box.setAttribute('data-kubeplay-id', id);
    box.style.cssText = 'position:relative;margin:1em 0;';
    target.parentNode.insertBefore(box, target);
    box.appendChild(target);
    if (target.tagName === 'KUBEPLAY-EMBED') {
      // Its manifest sits in a <script>: show it until the playground loads.
      var preview = document.createElement('pre');
      preview.className = 'kubeplay-preview';
      preview.textContent = source(el);
      target.hidden = true;
      box.appendChild(preview);
    }
    var run = document.createElement('button');
    run.type = 'button';
    run.textContent = '\u25B6 Run in kubeplay';
    run.setAttribute('data-kubeplay-run', '');
    run.setAttribute('aria-label', 'Run this manifest in a live kubeplay playground');
    run.style.cssText = 'position:absolute;top:.4em;right:.4em;z-index:1;cursor:pointer;font:inherit;font-size:.85em;padding:.2em .6em;border-radius:4px;border:1px solid #38bdf8;background:#0f172a;color:#e5e7eb;';
    box.appendChild(run);

    var observer = null;
    function load() {
      if (frames[id]) return;
      if (observer) observer.disconnect();
      var frame = document.createElement('iframe');
      frame.src = setup.url;
      frame.title = 'kubeplay: a live Kubernetes playground';
      frame.setAttribute('data-kubeplay-frame', id);
      frame.setAttribute('allow', 'clipboard-write');
      frame.style.cssText = 'display:block;width:100%;border:1px solid #334155;border-radius:8px;height:' + (setup.height || 420) + 'px;';
      frames[id] = { frame: frame, follow: setup.follow };
      box.replaceChildren(frame);
    }
    run.addEventListener('click', load);
    if (setup.lazy && 'IntersectionObserver' in window) {
      observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) load();
      }, { rootMargin: '200px' });
      observer.observe(box);
    }
  }

  // Messages from frames: only from our origin, and only from the frame that names itself.
  window.addEventListener('message', function (event) {
    if (event.origin !== ORIGIN || !event.data || typeof event.data.type !== 'string') return;
    var entry = frames[event.data.id];
    var frame = entry && entry.frame;
    if (!frame || frame.contentWindow !== event.source) return;
    if (event.data.type === 'kubeplay:resize' && typeof event.data.height === 'number') {
      frame.style.height = Math.min(Math.max(Math.ceil(event.data.height) + 2, 120), 4000) + 'px';
    } else if (event.data.type === 'kubeplay:ready' && entry.follow) {
      send(frame);
    }
  });

  function send(frame) {
    if (frame.contentWindow) frame.contentWindow.postMessage({ type: 'kubeplay:theme', theme: hostTheme() }, ORIGIN);
  }
  function themeChanged() {
    Object.keys(frames).forEach(function (id) {
      // A theme the author set stays as set.
      if (frames[id].follow) send(frames[id].frame);
    });
  }
  new MutationObserver(themeChanged).observe(document.documentElement, { attributes: true, attributeFilter: ['class', 'data-theme', 'data-bs-theme', 'data-color-scheme'] });
  if (window.matchMedia) {
    var media = matchMedia('(prefers-color-scheme: dark)');
    if (media.addEventListener) media.addEventListener('change', themeChanged);
  }

  function scan(root) {
    root.querySelectorAll('pre.kubeplay, code.language-kubeplay, kubeplay-embed').forEach(mount);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { scan(document); });
  else scan(document);
  // Pages that render later (single-page docs sites) call this after adding blocks.
  window.kubeplay = { scan: function (root) { scan(root || document); } };
})();
