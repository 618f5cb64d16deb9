// Package mongo is a stub of go.mongodb.org/mongo-driver/mongo.
package mongo

import "context"

type Client struct{}

func (c *Client) Database(name string) *Database                          { return &Database{} }
func (c *Client) Ping(ctx context.Context, rp any) error                  { return nil }
func (d *Database) Collection(name string) *Collection                    { return &Collection{} }
func (d *Database) RunCommand(ctx context.Context, cmd any) *SingleResult { return nil }

type Database struct{}

type Collection struct{}

type SingleResult struct{}

type ChangeStream struct{}

func (c *Collection) FindOne(ctx context.Context, filter any) *SingleResult { return nil }
func (c *Collection) InsertOne(ctx context.Context, doc any) (any, error)   { return nil, nil }
func (c *Collection) Watch(ctx context.Context, pipeline any) (*ChangeStream, error) {
	return nil, nil
}
