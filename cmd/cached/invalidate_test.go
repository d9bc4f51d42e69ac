package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/store"
)

// failing is an invalidator whose members are unreachable.
type failing struct{}

func (failing) InvalidateKeys(context.Context, [][]byte) (int64, error) { return 1, nil }
func (failing) InvalidatePrefix(context.Context, []byte) (int64, error) {
	return 2, errors.New("node2 unreachable")
}
func (failing) InvalidateTag(context.Context, []byte) (int64, error) { return 0, nil }

func TestInvalidateEndpoint(t *testing.T) {
	n, err := node.New(node.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for _, k := range []string{"user:1", "user:2", "session:1", "session:2", "session:3", "other"} {
		if _, _, _, err := n.Set([]byte(k), []byte("v"), store.SetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.AddTags([]byte("other"), [][]byte{[]byte("t")}); err != nil {
		t.Fatal(err)
	}
	h := invalidateHandler(n)
	post := func(h http.Handler, method, body string) (int, invalidateResult, http.Header) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/invalidate", strings.NewReader(body)))
		var res invalidateResult
		if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
			t.Fatalf("%s %q: reply %q: %v", method, body, rec.Body.String(), err)
		}
		return rec.Code, res, rec.Header()
	}
	for _, tt := range []struct {
		name, method, body string
		code               int
		want               invalidateResult
	}{
		{"get", http.MethodGet, "", http.StatusMethodNotAllowed, invalidateResult{}},
		{"not json", http.MethodPost, "keys=a", http.StatusBadRequest, invalidateResult{}},
		{"unknown field", http.MethodPost, `{"key":["a"]}`, http.StatusBadRequest, invalidateResult{}},
		{"two objects", http.MethodPost, `{"keys":["a"]} {}`, http.StatusBadRequest, invalidateResult{}},
		{"nothing", http.MethodPost, `{"keys":[],"prefix":""}`, http.StatusBadRequest, invalidateResult{}},
		{"empty tag", http.MethodPost, `{"tags":[""]}`, http.StatusBadRequest, invalidateResult{}},
		{"all three", http.MethodPost, `{"keys":["user:1","user:2","missing"],"prefix":"session:","tags":["t"]}`,
			http.StatusOK, invalidateResult{Deleted: 6, Keys: 2, Prefix: 3, Tags: 1}},
		{"again", http.MethodPost, `{"prefix":"session:"}`, http.StatusOK, invalidateResult{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, res, hdr := post(h, tt.method, tt.body)
			if code != tt.code {
				t.Fatalf("status %d (%+v), want %d", code, res, tt.code)
			}
			if code != http.StatusOK {
				if res.Error == "" {
					t.Fatal("no error message")
				}
				if code == http.StatusMethodNotAllowed && hdr.Get("Allow") != http.MethodPost {
					t.Fatalf("Allow: %q", hdr.Get("Allow"))
				}
				return
			}
			if res != tt.want {
				t.Fatalf("got %+v, want %+v", res, tt.want)
			}
		})
	}
	if n.Len() != 0 {
		t.Fatalf("%d keys left, want none", n.Len())
	}
	code, res, _ := post(invalidateHandler(failing{}), http.MethodPost, `{"keys":["a"],"prefix":"p"}`)
	if code != http.StatusServiceUnavailable || res.Deleted != 3 || !strings.Contains(res.Error, "unreachable") {
		t.Fatalf("member down: %d %+v", code, res)
	}
}
