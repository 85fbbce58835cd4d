// The browser client of the design article Captionist grew from ("WebSocket streaming", its
// section "Client-Side JavaScript"), copied as written, line breaks and all: the test runs it
// unchanged against `captionist serve` (tests/commands/test_cli_e2e.py).
class TranscriptionClient {
constructor(url) {
this.url = url;
this.ws = null;
this.onTranscript = null;
}
connect() {
this.ws = new WebSocket(this.url);
this.ws.onmessage = (event) => {
const data = JSON.parse(event.data);
if (this.onTranscript) {
this.onTranscript(data.transcript, data.is_final);
}
};
this.ws.onclose = () => setTimeout(() => this.connect(), 1000);
}
sendAudio(chunk) {
if (this.ws?.readyState === WebSocket.OPEN) {
this.ws.send(chunk);
}
}
}
