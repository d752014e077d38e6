package arifake

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"time"
)

// Stored recording files (GET /recordings/stored/{name}/file), as
// res/ari/resource_recordings.c ast_ari_recordings_get_stored_file serves
// them and main/http.c ast_http_send sends them: 200 with the file's bytes,
// Content-Type "<media type>/<file extension>" ("audio/wav", "audio/gsm",
// "audio/ulaw", "audio/wav16", …), Content-Length and "Cache-Control:
// no-cache, no-store"; 404 "Recording not found" for an unknown name; 500
// "Format specified by recording not available or loaded" for a file whose
// extension is no format Asterisk knows. No Range support: Asterisk always
// sends the whole file.

// StoreRecording puts a stored recording named name in the given format
// (its file extension: "wav", "gsm", …) holding exactly data, as a file
// dropped into Asterisk's recording directory would be: it is listed, can be
// played (recording:name), fetched (…/file answers data) and deleted. It
// replaces a stored recording of that name. A format Asterisk does not know
// makes …/file answer 500, as Asterisk does.
func (s *Server) StoreRecording(name, format string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := time.Duration(0)
	if r := bytesPerSecond(format); r > 0 {
		d = time.Duration(len(data)) * time.Second / time.Duration(r)
	}
	s.stored[name] = &storedRec{format: format, duration: d, data: bytes.Clone(data)}
	s.notify()
}

// storedFile is the answer to GET …/file for a stored recording: the bytes
// a test stored, else silence in the recording's format as long as the
// recording lasted (a valid WAV file for wav and wav16).
func storedFile(q *req, st *storedRec) {
	if !recordFormats[st.format] {
		q.fail(http.StatusInternalServerError, "Format specified by recording not available or loaded")
		return
	}
	data := st.data
	if data == nil {
		data = silence(st.format, st.duration)
	}
	q.ok(http.StatusOK, rawBody{contentType: "audio/" + st.format, data: data})
}

// bytesPerSecond of the raw formats (0 for those whose size is no simple
// rate: ogg).
func bytesPerSecond(format string) int {
	switch format {
	case "wav", "sln":
		return 16000 // 8 kHz, 16 bit
	case "wav16":
		return 32000
	case "ulaw", "alaw", "g722":
		return 8000
	case "gsm":
		return 1650 // 50 frames of 33 bytes
	}
	return 0
}

// silence is d of silence in format.
func silence(format string, d time.Duration) []byte {
	n := int(d.Seconds() * float64(bytesPerSecond(format)))
	switch format {
	case "wav":
		return silenceWAV(d)
	case "wav16":
		return wavHeader(16000, n, make([]byte, n))
	case "ulaw":
		return bytes.Repeat([]byte{0xff}, n)
	case "alaw":
		return bytes.Repeat([]byte{0xd5}, n)
	case "gsm":
		frame := append([]byte{0xd8}, make([]byte, 32)...)
		return bytes.Repeat(frame, n/33)
	}
	return make([]byte, n)
}

// wavHeader is a 16-bit mono PCM WAV file at rate holding n bytes of data.
func wavHeader(rate, n int, data []byte) []byte {
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + n))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(1))
	w(uint32(rate))
	w(uint32(rate * 2))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(n))
	b.Write(data)
	return b.Bytes()
}
