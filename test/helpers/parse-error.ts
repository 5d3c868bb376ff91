import { expect } from 'vitest';
import { ParseError } from '../../src/formats/errors.js';

/** Run a parse that must fail, and return its ParseError (any other outcome fails the test). */
export function errorOf(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return e as ParseError;
  }
  throw new Error('expected a ParseError');
}
