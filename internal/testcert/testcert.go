// Package testcert makes a self-signed certificate for the tests that
// serve TLS on 127.0.0.1: a server config with it, and a client config
// that trusts it.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"time"
)

var (
	once sync.Once
	cert tls.Certificate
	pool *x509.CertPool
)

func generate() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gevent-go test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	pool = x509.NewCertPool()
	pool.AddCert(leaf)
}

// Server returns a server config with the certificate (for 127.0.0.1,
// ::1 and localhost).
func Server() *tls.Config {
	once.Do(generate)
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

// Client returns a client config that trusts the certificate.
func Client() *tls.Config {
	once.Do(generate)
	return &tls.Config{RootCAs: pool}
}
