/**
 * Measures how deeply arrays and objects nest in JSON text, without parsing it, skipping string
 * contents (with their escapes). Stops counting once `stopAbove` is exceeded.
 *
 * @returns the deepest nesting seen (0 for a scalar), or `stopAbove + 1` as soon as it is exceeded
 */
export function maxJsonNesting(text: string, stopAbove: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return stopAbove + 1;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return deepest;
}
