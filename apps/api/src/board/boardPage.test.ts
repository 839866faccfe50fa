import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rewriteBoardPage } from './boardPage.ts';

/** Bull Board's own page template, as installed (the HTML its entry route renders, before EJS fills it in). */
const template = readFileSync(join(dirname(createRequire(import.meta.url).resolve('@bull-board/ui/package.json')), 'dist/index.ejs'), 'utf8');

describe('rewriteBoardPage', () => {
  it.each([
    {
      name: 'a Google Fonts stylesheet goes, local stylesheets stay, the script follows <base>',
      html: '<head><base href="/b/" /><link href="https://fonts.googleapis.com/css2?family=X" rel="stylesheet">\n<link href="static/css/main.css" rel="stylesheet"></head>',
      expected: '<head><base href="/b/" />\n    <script src="tasklane-board.js"></script><link href="static/css/main.css" rel="stylesheet"></head>',
    },
    {
      name: 'protocol-relative and plain-http links to other hosts go too',
      html: "<link rel='preconnect' href='//cdn.example'><link href=http://x.example/a.css rel=stylesheet><link rel=\"icon\" href=\"static/favicon.ico\">",
      expected: '<link rel="icon" href="static/favicon.ico">',
    },
    { name: 'a page with neither is left as it is', html: '<p>hello</p>', expected: '<p>hello</p>' },
  ])('$name', ({ html, expected }) => {
    expect(rewriteBoardPage(html)).toBe(expected);
  });

  it('takes every link to another host out of the installed Bull Board template, and adds the script once', () => {
    expect(template).toContain('fonts.googleapis.com'); // else this test no longer tests anything
    const page = rewriteBoardPage(template);
    expect(page).not.toMatch(/href\s*=\s*["']?(https?:)?\/\//i);
    expect(page).toContain('<link href="static/css/main.');
    expect(page.match(/<script src="tasklane-board\.js"><\/script>/g)).toHaveLength(1);
    expect(page.indexOf('tasklane-board.js')).toBeLessThan(page.indexOf('<script defer'));
  });
});
