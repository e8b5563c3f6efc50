/**
 * Flags of `vwh simulate` that one platform reads, declared once: `src/cli.ts` adds each to the command,
 * `vwh simulate` validates it and hands it to the platform's calls and run as a setting under `key`
 * (CallSetup.settings / RunSetup.settings). Plain data, so `vwh --help` loads no platform. A platform
 * that needs a flag adds a row here; everything else about it stays in its folder.
 */
export type PlatformFlagValue = { kind: "port" } | { kind: "choice"; choices: readonly [string, ...string[]] };

export interface PlatformFlag {
  platform: string;
  /** commander's flag spec, e.g. `--telnyx-api-port <port>`. */
  flag: string;
  /** commander's option name, which is also the setting's key. */
  key: string;
  description: string;
  value: PlatformFlagValue;
}

export const platformFlags: readonly PlatformFlag[] = [
  {
    platform: "vapi",
    flag: "--vapi-tool-shape <shape>",
    key: "vapiToolShape",
    description: "vapi: the tool-call payload shape: sdk (default) | sdk-object | custom-tools | events | function-call (legacy)",
    value: { kind: "choice", choices: ["sdk", "sdk-object", "custom-tools", "events", "function-call"] },
  },
  {
    platform: "telnyx",
    flag: "--telnyx-api-port <port>",
    key: "telnyxApiPort",
    description: "telnyx: port of vwh's local Call Control API on 127.0.0.1, printed as TELNYX_BASE_URL (default: a free port)",
    value: { kind: "port" },
  },
];
