import { html, type SafeHtml } from "../html.ts";

export function loginPage(o: { error?: string; next?: string }): SafeHtml {
  return html`<section class="login card">
  <h1>Sign in</h1>
  <p>Paste an API token (from <code>API_TOKENS</code>, or the login link <code>sop serve</code> printed at start).</p>
  ${o.error ? html`<p class="flash flash-error" role="alert">${o.error}</p>` : ""}
  <form method="post" action="/login">
    ${o.next ? html`<input type="hidden" name="next" value="${o.next}">` : ""}
    <label for="token">API token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <button type="submit" class="primary">Sign in</button>
  </form>
</section>`;
}

export function messagePage(title: string, text: string): SafeHtml {
  return html`<section class="card"><h1>${title}</h1><p>${text}</p><p><a href="/">Back to the SOP list</a></p></section>`;
}
