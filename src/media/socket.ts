/** Small pieces of WebSocket handling the media sessions share. */
import type WebSocket from "ws";

/** Resolves once the peer has read everything sent so far and what it sent back meanwhile arrived (a ping answered). */
export function pingBarrier(socket: WebSocket): Promise<void> {
  if (socket.readyState !== socket.OPEN) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      socket.off("pong", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("pong", done);
    socket.on("close", done);
    socket.ping();
  });
}

/** Closes normally and waits for the close handshake (bounded: a peer that never answers is cut off). */
export function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === socket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.terminate(), 2000);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    if (socket.readyState === socket.OPEN) socket.close(1000, "caller hung up");
    else socket.terminate();
  });
}
