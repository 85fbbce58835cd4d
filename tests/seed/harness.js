// Runs the seed article's TranscriptionClient, unchanged, against `captionist serve`.
// The class text (transcription_client.js) is evaluated as written; this harness only
// feeds it audio and prints what its onTranscript callback receives.
const fs = require("fs");
const [clientPath, pcmPath] = process.argv.slice(2);
const source = fs.readFileSync(clientPath, "utf8");
const TranscriptionClient = new Function(source + "\nreturn TranscriptionClient;")();

const pcm = fs.readFileSync(pcmPath);
const client = new TranscriptionClient("ws://localhost:8000/ws/transcribe");
client.onTranscript = (text, isFinal) => {
  console.log(JSON.stringify({ text: text ?? null, isFinal: isFinal ?? null }));
};
client.connect();

let offset = 0;
const timer = setInterval(() => {
  const ws = client.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  if (offset < pcm.length) {
    client.sendAudio(pcm.subarray(offset, offset + 3200)); // 100 ms of 16 kHz PCM
    offset += 3200;
    return;
  }
  clearInterval(timer);
  ws.send(JSON.stringify({ type: "CloseStream" }));
  ws.addEventListener("close", (event) => {
    console.log(JSON.stringify({ closed: event.code }));
    process.exit(0);
  });
}, 5);
setTimeout(() => { console.error("timed out"); process.exit(2); }, 120000);
