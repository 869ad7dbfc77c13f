package ossemu

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

func TestZZScratch(t *testing.T) {
	for _, v1 := range []bool{false, true} {
		cfg := oss.LoadDefaultConfig().WithCredentialsProvider(credentials.NewStaticCredentialsProvider("id", "secret", "tok en+/=")).
			WithRegion("cn-hangzhou").WithEndpoint("127.0.0.1:9000").WithUsePathStyle(true).WithDisableSSL(true)
		if v1 {
			cfg = cfg.WithSignatureVersion(oss.SignatureVersionV1)
		}
		c := oss.NewClient(cfg)
		r, err := c.Presign(context.Background(), &oss.PutObjectRequest{Bucket: oss.Ptr("examplebucket"), Key: oss.Ptr("a b/照片+x.txt"),
			ContentType: oss.Ptr("text/plain"), Callback: oss.Ptr("Y2I="), CallbackVar: oss.Ptr("dnY=")}, oss.PresignExpires(10*time.Minute))
		fmt.Printf("%v %+v\n", err, r)
	}
}
