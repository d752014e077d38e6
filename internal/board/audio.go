package board

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// serveAudio passes voicemail id's recording on to the browser as it comes
// from Asterisk: never held in memory, with the file's Content-Type and
// length, and byte ranges (a phone's browser asks for "bytes=0-1" first and
// plays nothing from a server without ranges). A range is served by reading
// the file from the start and skipping to it. The ARI credentials stay on
// the server: the browser only ever sees this URL.
func (h *handler) serveAudio(w http.ResponseWriter, r *http.Request, id int64) {
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.AudioTimeout)
	defer cancel()
	a, err := h.opts.Inbox.VoicemailAudio(ctx, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			h.log.Info("voicemail recording not found", "voicemail", id, "err", err)
			http.Error(w, "recording not found", http.StatusNotFound)
			return
		}
		h.log.Warn("voicemail recording unavailable", "voicemail", id, "err", err)
		http.Error(w, "recording unavailable", http.StatusBadGateway)
		return
	}
	defer a.Body.Close()

	hd := w.Header()
	hd.Set("Content-Type", audioType(a.ContentType))
	hd.Set("Content-Disposition", `inline; filename="voicemail-`+strconv.FormatInt(id, 10)+extension(a.ContentType)+`"`)
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("Cache-Control", "private, no-store")
	if a.Size < 0 {
		// No length, no ranges: the whole file as it comes.
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			h.copyAudio(w, a.Body, id)
		}
		return
	}
	hd.Set("Accept-Ranges", "bytes")
	start, n, status := byteRange(r.Header.Get("Range"), a.Size)
	switch status {
	case http.StatusRequestedRangeNotSatisfiable:
		hd.Set("Content-Range", "bytes */"+strconv.FormatInt(a.Size, 10))
		hd.Del("Content-Type")
		hd.Del("Content-Disposition")
		w.WriteHeader(status)
		return
	case http.StatusPartialContent:
		hd.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(start+n-1, 10)+"/"+strconv.FormatInt(a.Size, 10))
	}
	hd.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if start > 0 {
		if _, err := io.CopyN(io.Discard, a.Body, start); err != nil {
			h.log.Warn("voicemail recording ended early", "voicemail", id, "err", err)
			return
		}
	}
	h.copyAudio(w, io.LimitReader(a.Body, n), id)
}

func (h *handler) copyAudio(w io.Writer, body io.Reader, id int64) {
	if _, err := io.Copy(w, body); err != nil {
		// Usually the browser went away (a seek, the page closed).
		h.log.Debug("voicemail recording not sent to the end", "voicemail", id, "err", err)
	}
}

// byteRange reads a Range header against a file of size bytes: the first
// byte and the count to send, and 200 (the whole file: no header, several
// ranges, a unit other than bytes, or a malformed header — RFC 9110 lets a
// server ignore those), 206 or 416.
func byteRange(h string, size int64) (start, n int64, status int) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if h == "" || !ok || strings.Contains(spec, ",") {
		return 0, size, http.StatusOK
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, http.StatusOK
	}
	switch {
	case first == "": // the last n bytes
		k, err := strconv.ParseInt(last, 10, 64)
		if err != nil || k < 0 {
			return 0, size, http.StatusOK
		}
		if k == 0 || size == 0 {
			return 0, 0, http.StatusRequestedRangeNotSatisfiable
		}
		k = min(k, size)
		return size - k, k, http.StatusPartialContent
	default:
		a, err := strconv.ParseInt(first, 10, 64)
		if err != nil || a < 0 {
			return 0, size, http.StatusOK
		}
		b := size - 1
		if last != "" {
			if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
				return 0, size, http.StatusOK
			}
			b = min(b, size-1)
		}
		if a >= size {
			return 0, 0, http.StatusRequestedRangeNotSatisfiable
		}
		return a, b - a + 1, http.StatusPartialContent
	}
}

// audioType is the Content-Type for the browser: Asterisk's audio/* type,
// with its "wav16" (16 kHz WAV) named as the WAV it is; anything else
// (missing, not audio) is sent as an opaque file.
func audioType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil || !strings.HasPrefix(mt, "audio/"):
		return "application/octet-stream"
	case mt == "audio/wav16" || mt == "audio/x-wav":
		return "audio/wav"
	}
	return mt
}

// extension names the download after the format ("" when unknown).
func extension(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	ext, ok := strings.CutPrefix(mt, "audio/")
	if !ok || ext == "" || strings.ContainsAny(ext, `"\/;`) {
		return ""
	}
	return "." + ext
}
