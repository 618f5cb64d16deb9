// Package clean is code every analyzer passes: bounded calls only.
package clean

import (
	"context"
	"database/sql"
	"net"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

type Service struct {
	db   *sql.DB
	hc   *http.Client
	cs   kubernetes.Interface
	dial net.Dialer
}

func New(cfg *rest.Config, db *sql.DB) (*Service, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 30 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Service{db: db, hc: &http.Client{Timeout: 10 * time.Second}, cs: cs, dial: net.Dialer{Timeout: 5 * time.Second}}, nil
}

func (s *Service) Sync(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := s.cs.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{}); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE t SET x = 1"); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://example.com", nil)
	if err != nil {
		return err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	conn, err := s.dial.DialContext(ctx, "tcp", "example.com:80")
	if err != nil {
		return err
	}
	return conn.Close()
}

func Serve(l net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(l)
}

func Run() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	return (&Service{}).Sync(ctx)
}
