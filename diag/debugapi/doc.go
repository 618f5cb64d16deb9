// Package debugapi is the wire contract of a Vigil process's debug API:
// the paths and the JSON types that cross the socket.
package debugapi
