/** Market transaction rules: filled in by the market integration (docs/market.md). */
import type { TxType } from '../../../protocol/index.ts';
import type { Rule } from './context.ts';

export const marketRules: Partial<Record<TxType, Rule<never>>> = {};
