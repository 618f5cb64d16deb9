package clientcall

import (
	"context"
	"time"

	"github.com/containers/image/v5/types"
)

// containers/image talks to a registry on the context it is given: its
// registry client has no Timeout (blobs can be large), so a registry that
// accepts the connection and never answers blocks a background context.
func inspectImage(ref types.ImageReference, sys *types.SystemContext) {
	img, _ := ref.NewImage(context.Background(), sys)       // want `client call types.ImageReference.NewImage with context.Background\(\)`
	img.Manifest(context.TODO())                            // an Image made by NewImage holds its manifest
	src, _ := ref.NewImageSource(context.Background(), sys) // want `client call types.ImageReference.NewImageSource with context.Background\(\)`
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src.GetManifest(ctx, nil)
	ref.DeleteImage(ctx, sys)
}
