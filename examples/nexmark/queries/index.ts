/** Every Nexmark query written here, by its name (the bench and the tests iterate over these). */
import { q0, q1, q2 } from './simple.js';
import { q3 } from './q3.js';
import { q4 } from './q4.js';
import { q5, q7, q8, q11 } from './windowed.js';

export { q0, q1, q2, q3, q4, q5, q7, q8, q11 };
export type { Q1Result, Q2Result } from './simple.js';
export type { Q3Result } from './q3.js';
export type { Q4Result } from './q4.js';
export type { Q5Result, Q7Result, Q8Result, Q11Result } from './windowed.js';

export const QUERIES = { q0, q1, q2, q3, q4, q5, q7, q8, q11 } as const;
export type QueryName = keyof typeof QUERIES;
