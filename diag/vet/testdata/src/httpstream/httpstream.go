package httpstream

import (
	"bufio"
	"context"
	"net/http"
)

// A response read as a long-lived stream: a client Timeout would cut it.

func events(u string) error {
	c := &http.Client{} // want `http.Client without Timeout: its Do at httpstream.go:\d+ runs with context.Background\(\): a server that accepts the connection and never answers blocks it forever; the response is read as a long-lived stream, which a client Timeout would cut: bound the connection instead`
	req, err := http.NewRequestWithContext(context.Background(), "GET", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		_ = sc.Text()
	}
	return sc.Err()
}

func tail(u string) error {
	c := &http.Client{} // want `http.Client without Timeout, used with Get at httpstream.go:\d+: a server that accepts the connection and never answers blocks it forever; the response is read as a long-lived stream`
	resp, err := c.Get(u + "?follow=true")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	_, err = r.ReadString('\n')
	return err
}

func once(u string) error {
	c := &http.Client{} // want `http.Client without Timeout, used with Get at httpstream.go:\d+: a server that accepts the connection and never answers blocks it forever; set Timeout$`
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
