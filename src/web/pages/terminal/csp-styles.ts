/**
 * xterm.js writes its theme and cell sizes into <style> elements it creates itself; under grim's CSP
 * (style-src 'self', no 'unsafe-inline') the browser refuses those, even empty ones. While `fn` runs,
 * a <style> asked for is handed out as an inert <template> (never rendered, never applied) whose text
 * goes into a constructed stylesheet (document.adoptedStyleSheets) instead, which the CSP allows
 * because no markup is parsed. xterm only sets textContent on them and removes them. Returns fn's
 * result and a cleanup that removes those sheets again.
 */
export function withAdoptedStyles<T>(fn: () => T): { result: T; dispose(): void } {
  const sheets: CSSStyleSheet[] = [];
  const original = document.createElement;
  const create = function (this: Document, tag: string, options?: ElementCreationOptions) {
    if (tag.toLowerCase() !== 'style') return original.call(this, tag, options);
    const el = original.call(this, 'template');
    route(el, sheets);
    return el;
  };
  document.createElement = create as typeof document.createElement;
  try {
    return {
      result: fn(),
      dispose() {
        document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => !sheets.includes(s));
      },
    };
  } finally {
    document.createElement = original;
  }
}

function route(el: HTMLElement, sheets: CSSStyleSheet[]) {
  const sheet = new CSSStyleSheet();
  sheets.push(sheet);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  let text = '';
  Object.defineProperty(el, 'textContent', {
    configurable: true,
    get: () => text,
    set: (v: string | null) => {
      text = v ?? '';
      sheet.replaceSync(text);
    },
  });
  Object.defineProperty(el, 'innerText', {
    configurable: true,
    get: () => text,
    set: (v: string | null) => {
      text = v ?? '';
      sheet.replaceSync(text);
    },
  });
}
