// What Tasklane changes in Bull Board's HTML page (issue #12, point 6): nothing the page asks for may
// leave the machine, and the page must work when opened as http://user:password@host/admin/queues.

/** Path, under the board's base path, of the script {@link rewriteBoardPage} adds to the page. */
export const BOARD_PAGE_SCRIPT_PATH = '/tasklane-board.js';

/**
 * The script added to the page. Opened with credentials in its URL, the page's document URL keeps
 * them, so every relative URL resolved against it includes them, and the Fetch Standard's `Request`
 * constructor throws for such a URL ("If parsedURL includes credentials, then throw a TypeError";
 * Chromium: "Request cannot be constructed from a URL that includes credentials"). Bull Board loads
 * its translations with i18next-http-backend, which uses `fetch()` (its API calls go through axios,
 * i.e. XHR, which has no such rule): the fetch throws, i18next retries for about ten seconds and then
 * renders raw keys (`MENU.QUEUES`). So the page drops the credentials from its own URL before Bull
 * Board's deferred bundles run: `location.replace` to the same URL without them. It reads
 * `document.URL`, because Chromium already hides the credentials from `location.href` but not from
 * `document.URL`. The browser keeps them in its HTTP authentication cache, so the reloaded page and
 * everything it requests still authenticate; the password also leaves the address bar and history.
 */
export const BOARD_PAGE_SCRIPT = `// Tasklane: see apps/api/src/board/boardPage.ts
{
  const url = new URL(document.URL);
  if (url.username || url.password) {
    url.username = '';
    url.password = '';
    location.replace(url.href);
  }
}
`;

/** A `<link …>` tag whose `href` is an absolute http(s) or protocol-relative URL: another host. */
const THIRD_PARTY_LINK = /<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?\/\/[^>]*>\s*/gi;

/** The page's `<base href="…">` tag (Bull Board's template has exactly one, in `<head>`). */
const BASE_TAG = /<base\b[^>]*>/i;

/**
 * Rewrites Bull Board's page (the HTML its entry route renders, `@bull-board/ui`'s `index.ejs`):
 * - removes every `<link>` to another host. Bull Board 9.10 links Google Fonts (IBM Plex Sans and
 *   Mono), which the API's Content-Security-Policy blocks anyway (a console error) and which would
 *   tell a third party who opens the dashboard; its stylesheet falls back to the system fonts
 *   (`system-ui`, `ui-monospace`);
 * - adds `<script src="tasklane-board.js">` right after `<base>` (so before Bull Board's deferred
 *   bundles run), which is {@link BOARD_PAGE_SCRIPT}, served from the board's own path.
 *
 * @param html - the page as Bull Board rendered it
 * @returns the page rewritten; unchanged when it has no `<base>` tag and no third-party link
 */
export function rewriteBoardPage(html: string): string {
  const local = html.replace(THIRD_PARTY_LINK, '');
  return local.replace(BASE_TAG, (base) => `${base}\n    <script src="${BOARD_PAGE_SCRIPT_PATH.slice(1)}"></script>`);
}
