package clientcall

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
)

// The MongoDB driver has no socket timeout by default: its Database
// and Collection wait as long as the context lets them.
func findUser(c *mongo.Client, id string) {
	users := c.Database("app").Collection("users")
	users.FindOne(context.Background(), id)              // want `client call mongo.Collection.FindOne with context.Background\(\)`
	c.Database("app").RunCommand(context.TODO(), "ping") // want `client call mongo.Database.RunCommand with context.TODO\(\)`
	c.Ping(context.Background(), nil)                    // want `client call mongo.Client.Ping with context.Background\(\)`
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	users.InsertOne(ctx, id)
	users.Watch(context.Background(), nil) // a change stream runs until cancelled
}
