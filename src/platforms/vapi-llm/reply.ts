/**
 * vapi-llm sends no webhooks whose replies are read: the conversation runs on the chat-completions stream,
 * which session.ts reads and checks against grammar.ts. A reply here carries no actions.
 */
import type { ParsedReply } from "../types.js";

export const parseVapiLlmReply = (): ParsedReply => ({ native: undefined, actions: [], failures: [], warnings: [] });
