/**
 * A waiting request's "what it lets run" and "what changed" as chat lines (plain text, `code`
 * and fenced blocks, which Slack and Discord render alike), kept short enough for the tightest
 * platform: a Discord embed's 4096-character description still has room for the plan after it.
 * The run page in the web UI shows the rest, and every fold says so.
 */
import {
  changeHeading, diffLineText, foldText, gateItemTitle, moreChangesText, moreCommandsText, moreItemsText, moreLinesText,
  nextHeading, onRunPage, thenText, tooLargeNote, type ApprovalRequest, type NextItem,
} from "./approval-request.ts";
import { noFences } from "./chat-message.ts";
import { foldDiff, type DefinitionChange } from "./definition-change.ts";

const CHAT = { budget: 1800, commandLines: 12, commandChars: 600, commands: 3, description: 300, changedLines: 10, diffLine: 100 } as const;

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function codeBlock(command: string): string[] {
  const folded = foldText(command, CHAT.commandLines, CHAT.commandChars);
  const more = moreLinesText(folded);
  return ["```", noFences(folded.shown), "```", ...(more ? [onRunPage(more)] : [])];
}

function itemLines(item: NextItem): string[] {
  if (item.kind === "gate") return [`*${gateItemTitle(item)}*`, ...codeBlock(item.command)];
  const lines = [noFences(`*${item.number}. ${item.title}*${item.note ? ` — ${item.note}` : ""}`)];
  if (item.description) lines.push(noFences(cut(item.description, CHAT.description)));
  if (item.forecast === "skipped") return lines;
  for (const command of item.commands.slice(0, CHAT.commands)) lines.push(...codeBlock(command));
  if (item.commands.length > CHAT.commands) lines.push(onRunPage(moreCommandsText(item.commands.length - CHAT.commands)));
  return lines;
}

function changeLines(change: DefinitionChange): string[] {
  if (change.tooLarge) return [noFences(changeHeading(change)), tooLargeNote()];
  const { shown, more } = foldDiff(change.lines, CHAT.changedLines);
  return [noFences(changeHeading(change)), "```", ...shown.map((l) => noFences(cut(diffLineText(l), CHAT.diffLine))), "```", ...(more ? [onRunPage(moreChangesText(more))] : [])];
}

/** What a waiting request shows of what it lets run: within a budget, the first step always. */
export function requestLines(r: ApprovalRequest): string[] {
  const lines = r.change ? ["", ...changeLines(r.change)] : [];
  lines.push("", `*${nextHeading(r)}*`);
  let room: number = CHAT.budget;
  let shown = 0;
  for (const item of r.next) {
    const block = itemLines(item);
    const size = block.join("\n").length;
    if (shown > 0 && size > room) break;
    lines.push(...block);
    room -= size;
    shown++;
  }
  if (shown < r.next.length) lines.push(onRunPage(moreItemsText(r.next.length - shown)));
  lines.push(noFences(thenText(r)));
  return lines;
}
