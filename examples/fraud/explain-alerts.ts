// Explaining fraud alerts in words with an LLM: the alerts the scoring pipeline raises (a
// transaction, its score and the features that drove it) go through `.infer()` to any
// OpenAI-compatible chat model (OpenAI, vLLM, llama.cpp, Ollama), which answers JSON matching
// EXPLANATION_SCHEMA: a one-sentence summary for the analyst, the risk factors, and a suggested
// action. An answer that is not that JSON goes to the dead letters with the reason; the run
// keeps within the account's request and token budgets and honours the server's 429s.
//
//   OPENAI_BASE_URL=http://127.0.0.1:8000/v1 npx tsx examples/fraud/explain-alerts.ts   # vLLM
//   OPENAI_API_KEY=sk-... npx tsx examples/fraud/explain-alerts.ts --model gpt-4o-mini  # OpenAI
import {
  OpenAIModel,
  pipeline,
  type OpenAIModelOptions,
  type PipelineRun,
  type Sink,
  type Source,
} from '../../src/index.js';
import { collect, fromArray } from '../../src/testing.js';

/** An alert as the fraud pipeline raises it. */
export interface FraudAlert {
  txId: number;
  customerId: number;
  terminalId: number;
  amount: number;
  /** The model's fraud probability. */
  score: number;
  /** The features that weighed most (name → value). */
  drivers: Record<string, number>;
}

/** What the LLM must answer for each alert. */
export interface Explanation {
  summary: string;
  riskFactors: string[];
  action: 'block_card' | 'call_customer' | 'monitor';
}

export type ExplainedAlert = FraudAlert & { explanation: Explanation };

/** The JSON Schema sent as `response_format` and checked on every answer. */
export const EXPLANATION_SCHEMA = {
  type: 'object',
  properties: {
    summary: { type: 'string', maxLength: 400 },
    riskFactors: { type: 'array', items: { type: 'string' }, maxItems: 5 },
    action: { type: 'string', enum: ['block_card', 'call_customer', 'monitor'] },
  },
  required: ['summary', 'riskFactors', 'action'],
  additionalProperties: false,
};

export const INSTRUCTIONS =
  'You are a fraud analyst assistant. The user message is a card-payment fraud alert as JSON: the ' +
  'transaction, the fraud model score (0-1) and the features that drove it. Explain in one sentence ' +
  'why it was flagged, list the risk factors, and suggest one action.';

/**
 * Connects the chat model that explains alerts (structured output, budgets, adaptive concurrency).
 *
 * @example
 * const llm = await explanationModel({ model: 'qwen2.5-7b-instruct', baseUrl: 'http://127.0.0.1:8000/v1' });
 */
export function explanationModel(o: Partial<OpenAIModelOptions> & { model: string }): Promise<OpenAIModel> {
  return OpenAIModel.connect({
    task: 'chat',
    instructions: INSTRUCTIONS,
    responseFormat: { name: 'fraud_explanation', schema: EXPLANATION_SCHEMA },
    maxTokens: 300,
    limits: { requestsPerMinute: 500, tokensPerMinute: 200_000 },
    maxConcurrency: 16,
    ...o,
  });
}

/**
 * The pipeline: alerts in, explained alerts out; the model's input is the alert as JSON text.
 *
 * @example
 * const run = explainAlerts(fromArray(alerts), llm, collect());
 * await run.done;
 */
export function explainAlerts(
  alerts: Source<FraudAlert>,
  llm: OpenAIModel,
  sink: Sink<ExplainedAlert>,
): PipelineRun {
  return pipeline('fraud-explain')
    .from(alerts)
    .infer(llm, {
      name: 'explain',
      inputType: 'json',
      outputType: 'json',
      input: (a) => ({ transaction: { id: a.txId, amount: a.amount }, score: a.score, drivers: a.drivers }),
      output: (a, [explanation]) => ({ ...a, explanation: explanation as Explanation }),
      // An LLM outage (or a spent budget) costs latency, not records.
      onUnavailable: 'wait',
    })
    .to(sink)
    .run({ batchSize: 32 });
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--model');
  const model = at > 0 ? process.argv[at + 1]! : (process.env.SLUICE_LLM_MODEL ?? 'gpt-4o-mini');
  const llm = await explanationModel({ model });
  const alerts: FraudAlert[] = [
    {
      txId: 1,
      customerId: 42,
      terminalId: 7,
      amount: 912.4,
      score: 0.97,
      drivers: { TX_AMOUNT: 912.4, TX_DURING_NIGHT: 1 },
    },
    {
      txId: 2,
      customerId: 9,
      terminalId: 311,
      amount: 54.1,
      score: 0.81,
      drivers: { TERMINAL_ID_RISK_7DAY_WINDOW: 0.6 },
    },
  ];
  const out = collect<ExplainedAlert>();
  const run = explainAlerts(fromArray(alerts), llm, out);
  await run.done;
  for (const a of out.values) console.log(`tx ${a.txId}: ${a.explanation.action} — ${a.explanation.summary}`);
  for (const d of run.deadLetters?.items ?? []) console.log(`dead letter: ${d.reason}`);
  await llm.close();
}

if (process.argv[1]?.endsWith('explain-alerts.ts')) {
  main().catch((e: Error) => {
    console.error(e.message);
    process.exitCode = 1;
  });
}
