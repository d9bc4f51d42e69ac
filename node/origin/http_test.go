package origin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPOrigin(t *testing.T) {
	var lastAuth, lastPath, lastBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lastAuth, lastPath = r.Header.Get("Authorization"), r.URL.EscapedPath()
		b, _ := io.ReadAll(r.Body)
		lastBody = string(b)
		switch {
		case strings.HasSuffix(r.URL.Path, "/big"):
			io.WriteString(w, strings.Repeat("x", 100))
		case strings.HasSuffix(r.URL.Path, "/missing"):
			w.WriteHeader(http.StatusNotFound)
		case strings.HasSuffix(r.URL.Path, "/broken"):
			w.WriteHeader(http.StatusBadGateway)
		default:
			io.WriteString(w, "value")
		}
	}))
	defer srv.Close()
	h, err := NewHTTP(HTTPConfig{URL: srv.URL + "/v1/{id}?k={key}", Headers: map[string]string{"Authorization": "Bearer t"}, MaxBody: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	v, err := h.Load(ctx, "user:a b", "a b")
	if err != nil || string(v) != "value" || lastAuth != "Bearer t" || lastPath != "/v1/a%20b" {
		t.Fatalf("Load: %q, %v, auth %q, path %q", v, err, lastAuth, lastPath)
	}
	if _, err := h.Load(ctx, "k", "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("404: %v", err)
	}
	if _, err := h.Load(ctx, "k", "broken"); err == nil || !strings.Contains(err.Error(), "status 502") {
		t.Fatalf("502: %v", err)
	}
	if _, err := h.Load(ctx, "k", "big"); err == nil || !strings.Contains(err.Error(), "larger than 50 bytes") {
		t.Fatalf("body over max-body: %v", err)
	}
	if err := h.Store(ctx, "k", "x", []byte("new")); err != nil || lastBody != "new" {
		t.Fatalf("Store: %v, body %q", err, lastBody)
	}
	if err := h.Delete(ctx, "k", "missing"); err != nil {
		t.Fatalf("Delete of an absent key: %v", err)
	}
	if err := h.Delete(ctx, "k", "broken"); err == nil {
		t.Fatal("Delete answered 502 succeeded")
	}
	for _, bad := range []HTTPConfig{{URL: "", MaxBody: 1}, {URL: "ftp://x/{id}", MaxBody: 1}, {URL: "http:///{id}", MaxBody: 1}, {URL: "http://h/{id}"}} {
		if _, err := NewHTTP(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
