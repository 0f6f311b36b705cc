/**
 * Parses an XML document with saxes (a conforming, non-validating XML 1.0 parser) into
 * a small element tree, and fails on the first well-formedness error: for tests of the
 * SVG writers.
 */
import { SaxesParser } from 'saxes';

/** An element: name, attributes, children, and its own text (character data, entities decoded). */
export interface XmlElement {
  name: string;
  attrs: Partial<Record<string, string>>;
  children: XmlElement[];
  text: string;
}

/** Parses `xml`; throws the parser's first error (with line:column). */
export function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser();
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let error: Error | undefined;
  parser.on('error', (e) => {
    error ??= e;
  });
  parser.on('opentag', (tag) => {
    const el: XmlElement = { name: tag.name, attrs: { ...(tag.attributes as Record<string, string>) }, children: [], text: '' };
    const parent = stack.at(-1);
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('text', (t) => {
    const cur = stack.at(-1);
    if (cur) cur.text += t;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.write(xml).close();
  if (error) throw error;
  if (!root) throw new Error('no root element');
  return root;
}

/** Every element under (and including) `el` that `pred` accepts, in document order. */
export function findAll(el: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement): void => {
    if (pred(e)) out.push(e);
    for (const c of e.children) walk(c);
  };
  walk(el);
  return out;
}

/** Elements of class `cls` (the `class` attribute, one word of it) under `el`. */
export function byClass(el: XmlElement, cls: string): XmlElement[] {
  return findAll(el, (e) => (e.attrs.class ?? '').split(' ').includes(cls));
}

/** All text under `el`: its own, then its children's (in order), recursively. */
export function textOf(el: XmlElement): string {
  return el.text + el.children.map(textOf).join('');
}
