/** The starter scenarios `vwh init --platform teler` writes: caller scripts that pass the bundled example handler. */
import type { StarterScenario } from "../types.js";

export const telerStarters: readonly StarterScenario[] = [
  {
    id: "stream",
    title: "Stream the call to the agent",
    flow: (call) => ({
      version: 1,
      platform: "teler",
      name: "Stream the call to the agent",
      description: "The call connects: the flow URL answers with a media stream to a wss:// URL.",
      call,
      script: [{ expect: { actions: [{ type: "stream", url: { matches: "^wss://" } }] } }],
    }),
  },
];
