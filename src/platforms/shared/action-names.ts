/**
 * A reply's actions named as the reply itself names them, for the tunnel's live log and inspector: an XML
 * reply's top-level elements (`Say, Gather`), a JSON instruction's `type` (vwh's envelope) or an action
 * list's `action` (an NCCO), else vwh's own action type. Read from the action paths the platform's reader
 * gives, so one function serves every platform.
 */
import type { Action, NativeDocument, ParsedReply } from "../types.js";

const xmlTop = /^[^/[\]@]+\/([^/[\]@]+)\[\d+\]/;
const jsonTop = /^((?:instructions)?\[\d+\])/;

/** The name an action has in the reply itself: its top-level element, the NCCO action, the instruction type. */
function nativeName(action: Action, native: NativeDocument | undefined): { key: string | undefined; name: string } {
  const xml = xmlTop.exec(action.path);
  if (xml) return { key: xml[0], name: xml[1]! };
  const json = jsonTop.exec(action.path);
  if (json) {
    const field = json[1]!.startsWith("instructions") ? "type" : "action";
    const named = native?.select(`${json[1]}.${field}`)[0];
    return { key: json[1], name: typeof named === "string" ? named : action.type };
  }
  return { key: undefined, name: action.type };
}

/** `Say, Gather` for `<Response><Say/><Gather><Say/></Gather></Response>`: one name per top-level element, in order. */
export function actionNames(parsed: Pick<ParsedReply, "actions" | "native">): string[] {
  const names: string[] = [];
  let lastKey: string | undefined;
  for (const action of parsed.actions) {
    const { key, name } = nativeName(action, parsed.native);
    if (key !== undefined && key === lastKey) continue;
    lastKey = key;
    names.push(name);
  }
  return names;
}
