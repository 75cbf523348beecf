//go:build !linux

package main

// flood belongs to TestFloodedServer, which reads /proc and runs on Linux.
func flood(string) {}
