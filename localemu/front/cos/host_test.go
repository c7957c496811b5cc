package cos

import "testing"

func TestParseHost(t *testing.T) {
	for host, want := range map[string]Bucket{
		"media-1250000000.cos.ap-guangzhou.myqcloud.com":                       {"media", "1250000000", "ap-guangzhou"},
		"Media-1250000000.COS.ap-beijing-1.myqcloud.com:9770":                  {"media", "1250000000", "ap-beijing-1"},
		"a-b-c-1250000000.cos.ap-shanghai.tencentcos.cn":                       {"a-b-c", "1250000000", "ap-shanghai"},
		"x-1.cos.na-siliconvalley.myqcloud.com.":                               {"x", "1", "na-siliconvalley"},
		"asyncfn-deploy-ap-guangzhou-1250000000.cos.ap-guangzhou.myqcloud.com": {"asyncfn-deploy-ap-guangzhou", "1250000000", "ap-guangzhou"},
	} {
		got, ok := ParseHost(host)
		if !ok || got != want {
			t.Errorf("ParseHost(%q) = %+v %t, want %+v", host, got, ok, want)
		}
	}
	for _, host := range []string{
		"127.0.0.1:9770", "localhost", "cos.ap-guangzhou.myqcloud.com", "media.cos.ap-guangzhou.myqcloud.com",
		"media-1250000000.cos-website.ap-guangzhou.myqcloud.com", "me.dia-1250000000.cos.ap-guangzhou.myqcloud.com",
		"-media-1250000000.cos.ap-guangzhou.myqcloud.com", "media--1250000000.cos.ap-guangzhou.myqcloud.com",
		"media-1250000000.cos.ap-guangzhou.myqcloud.com.evil.example", "evil.example/media-1250000000.cos.ap-guangzhou.myqcloud.com",
		"a123456789012345678901234567890123456789012345678901-1250000000.cos.ap-guangzhou.myqcloud.com",
	} {
		if b, ok := ParseHost(host); ok {
			t.Errorf("ParseHost(%q) = %+v, want no COS bucket host", host, b)
		}
	}
}

func TestURLEncodeIsTheSDKs(t *testing.T) {
	for in, want := range map[string]string{
		"abc-_.~XYZ09": "abc-_.~XYZ09",
		"a b/c":        "a%20b%2Fc",
		"!'()*":        "%21%27%28%29%2A",
		"中":            "%E4%B8%AD",
	} {
		if got := urlEncode(in); got != want {
			t.Errorf("urlEncode(%q) = %q, want %q", in, got, want)
		}
	}
}
