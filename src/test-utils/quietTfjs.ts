/**
 * Vitest setup file: drops tfjs-backend-cpu's "Hi, looks like you are running TensorFlow.js in
 * Node.js" banner (printed on the first tensor of every cpu backend instance, so once per test
 * file that builds one). Only that message: every other tfjs warning still shows.
 */
const BANNER = 'looks like you are running TensorFlow.js in Node.js';
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes(BANNER)) return;
  warn(...args);
};
