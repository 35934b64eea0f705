/* global document, fetch, EventSource, location */
// The run page stays current without reloading: every event of the run's stream re-fetches
// the server-rendered fragment of #live and swaps it in, and the page's title follows. Everything
// else is plain HTML forms; a required field says in the server's words what it wants.

const FINAL = new Set(["success", "failed", "denied", "cancelled", "timed_out"]);

/** Replace the live region, keeping what the person typed and which outputs they unfolded. */
function swap(live, markup) {
  const typed = new Map();
  for (const el of live.querySelectorAll("[data-keep]")) typed.set(el.dataset.keep, el.value);
  const unfolded = new Map();
  for (const el of live.querySelectorAll("details[data-key]")) unfolded.set(el.dataset.key, el.open);
  const focused = document.activeElement?.dataset?.keep;
  live.innerHTML = markup;
  for (const el of live.querySelectorAll("[data-keep]")) {
    if (typed.has(el.dataset.keep)) el.value = typed.get(el.dataset.keep);
    if (focused !== undefined && el.dataset.keep === focused) el.focus();
  }
  for (const el of live.querySelectorAll("details[data-key]")) {
    if (unfolded.has(el.dataset.key)) el.open = unfolded.get(el.dataset.key);
  }
}

function follow(live) {
  const source = new EventSource(live.dataset.events);
  let busy = false;
  let again = false;

  const finish = () => {
    live.dataset.final = "true";
    source.close();
    document.querySelector("form.cancel")?.remove();
  };

  // One fetch at a time; events that arrive meanwhile fold into one more fetch.
  const refresh = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const res = await fetch(live.dataset.fragment, { credentials: "same-origin", headers: { accept: "text/html" } });
        if (res.status === 401) {
          location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
          return;
        }
        if (!res.ok) return;
        const status = res.headers.get("x-run-status");
        swap(live, await res.text());
        live.dataset.status = status ?? "";
        const title = live.querySelector("[data-page-title]")?.dataset.pageTitle;
        if (title) document.title = title;
        if (status && FINAL.has(status)) finish();
      } while (again);
    } catch {
      // A network blip: the stream reconnects by itself and its snapshot triggers a refresh.
    } finally {
      busy = false;
    }
  };

  source.addEventListener("message", () => {
    refresh().catch(() => {});
  });
}

// A blank Deny reason: the browser refuses the form, with the words the server would use.
// ("invalid" does not bubble, so it is caught on the way down; the live region is redrawn often.)
document.addEventListener("invalid", (event) => {
  const input = event.target;
  const words = input?.dataset?.requiredMessage;
  if (words && input.value.trim() === "") input.setCustomValidity(words);
}, true);
document.addEventListener("input", (event) => {
  if (event.target?.dataset?.requiredMessage) event.target.setCustomValidity("");
});

const live = document.getElementById("live");
if (live && live.dataset.final !== "true" && "EventSource" in globalThis) follow(live);
