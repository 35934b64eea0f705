/**
 * HTML built with one tagged template: every interpolated value is escaped unless it is already
 * `SafeHtml` (the result of another `html` template). So a page can only contain markup that a
 * template literal in this folder wrote; SOP text, variables and output always arrive as text.
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ENTITIES[c] ?? c);
}

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map((v: Interpolation) => render(v)).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? "");
  });
  return new SafeHtml(out);
}

/** A path segment for an href: names and run ids are validated, but encode anyway. */
export const seg = (s: string): string => encodeURIComponent(s);

/** A page's `<title>`: the page's own words, then the app's name. */
export const documentTitle = (title: string): string => `${title} · sop-runner`;

export interface Flash {
  kind: "ok" | "error";
  text: string;
}

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** The signed-in token name; absent on the login page. */
  user?: string;
  csrf?: string;
  flash?: Flash | undefined;
  /** Which nav entry is current. */
  nav?: "sops" | "runs" | "approvals";
  assets: { css: string; js: string };
}

export function layout(o: LayoutOptions): SafeHtml {
  const navItem = (key: LayoutOptions["nav"], href: string, label: string) =>
    html`<a href="${href}"${o.nav === key ? html` aria-current="page"` : ""}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<link rel="icon" href="data:,">
<title>${documentTitle(o.title)}</title>
<link rel="stylesheet" href="${o.assets.css}">
<script type="module" src="${o.assets.js}"></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/">sop-runner</a>
  ${o.user !== undefined ? html`<nav>
    ${navItem("sops", "/", "SOPs")}
    ${navItem("runs", "/runs", "Runs")}
    ${navItem("approvals", "/approvals", "Approvals")}
  </nav>
  <form class="logout" method="post" action="/logout">
    <input type="hidden" name="_csrf" value="${o.csrf ?? ""}">
    <span class="who">api:${o.user}</span> <button type="submit" class="link">Log out</button>
  </form>` : ""}
</header>
<main>
${o.flash ? html`<p class="flash flash-${o.flash.kind}" role="${o.flash.kind === "error" ? "alert" : "status"}">${o.flash.text}</p>` : ""}
${o.body}
</main>
</body>
</html>
`;
}
