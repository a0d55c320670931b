"use strict";
// The page's reader of server-sent events (loaded before page.js).

// -- server-sent events: a parser for any line ending (\r\n, \n or \r), as the spec says --------
function sseParser(onEvent) {
  let buffer = "";
  let data = [];
  let type = "";
  function line(text) {
    if (text === "") {
      if (data.length) onEvent(type || "message", data.join("\n"));
      data = []; type = "";
      return;
    }
    if (text.startsWith(":")) return;  // a comment: the server's keep-alive ping
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") type = value;
  }
  return {
    push(chunk) {
      buffer += chunk;
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        if (!match) return;
        // a lone \r at the end may be the first half of \r\n: wait for the next chunk
        if (match[0] === "\r" && match.index === buffer.length - 1) return;
        line(buffer.slice(0, match.index));
        buffer = buffer.slice(match.index + match[0].length);
      }
    },
    end() {
      if (buffer) line(buffer.replace(/\r$/, ""));
      buffer = "";
      line("");
    },
  };
}
