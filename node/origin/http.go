package origin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// HTTPConfig configures an HTTP origin.
type HTTPConfig struct {
	// URL is the template of a key's resource: {id} is replaced by the
	// key's id, {key} by the whole key, both path-escaped.
	URL string
	// Headers are sent with every request (Authorization and the like).
	Headers map[string]string
	// MaxBody bounds a response body; a larger one is a load error.
	MaxBody int64
	// Client sends the requests; nil uses a client of its own.
	Client *http.Client
}

// Validate reports the first invalid field.
func (c HTTPConfig) Validate() error {
	if c.URL == "" {
		return errors.New("url: must be set")
	}
	u, err := url.Parse(strings.NewReplacer("{id}", "x", "{key}", "x").Replace(c.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url: want an http:// or https:// URL template, got %q", c.URL)
	}
	if c.MaxBody < 1 {
		return errors.New("max-body: must be positive")
	}
	return nil
}

// HTTP is an origin reached over REST: GET loads (404 is absent), PUT
// stores the value as the body, DELETE deletes (404 counts as deleted).
// Any other status than 2xx is an error naming it.
type HTTP struct {
	cfg    HTTPConfig
	client *http.Client
}

// NewHTTP returns an HTTP origin for cfg.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.Client
	if c == nil {
		c = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	}
	return &HTTP{cfg: cfg, client: c}, nil
}

// url builds the resource URL of key.
func (h *HTTP) url(key, id string) string {
	return strings.NewReplacer("{id}", url.PathEscape(id), "{key}", url.PathEscape(key)).Replace(h.cfg.URL)
}

// do sends one request and returns the status and body of its response.
func (h *HTTP) do(ctx context.Context, method, key, id string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.url(key, id), rd)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range h.cfg.Headers {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, h.cfg.MaxBody+1))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if int64(len(b)) > h.cfg.MaxBody {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: body larger than %d bytes", method, req.URL.Redacted(), h.cfg.MaxBody)
	}
	return resp.StatusCode, b, nil
}

// Load implements Origin.
func (h *HTTP) Load(ctx context.Context, key, id string) ([]byte, error) {
	status, body, err := h.do(ctx, http.MethodGet, key, id, nil)
	switch {
	case err != nil:
		return nil, err
	case status == http.StatusNotFound:
		return nil, ErrNotFound
	case status/100 != 2:
		return nil, fmt.Errorf("GET: status %d", status)
	}
	if body == nil {
		body = []byte{}
	}
	return body, nil
}

// Store implements Origin.
func (h *HTTP) Store(ctx context.Context, key, id string, val []byte) error {
	if val == nil {
		val = []byte{}
	}
	status, _, err := h.do(ctx, http.MethodPut, key, id, val)
	if err == nil && status/100 != 2 {
		err = fmt.Errorf("PUT: status %d", status)
	}
	return err
}

// Delete implements Origin.
func (h *HTTP) Delete(ctx context.Context, key, id string) error {
	status, _, err := h.do(ctx, http.MethodDelete, key, id, nil)
	if err == nil && status/100 != 2 && status != http.StatusNotFound {
		err = fmt.Errorf("DELETE: status %d", status)
	}
	return err
}

// Close implements Origin.
func (h *HTTP) Close() error {
	h.client.CloseIdleConnections()
	return nil
}
