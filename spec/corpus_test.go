package spec

import (
	"path/filepath"
	"reflect"
	"testing"
)

func TestCorpusLoads(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", corpusDir, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			l, err := Load(f, Options{Env: mapEnv(nil)})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(l.Service.Functions) == 0 {
				t.Fatal("no functions")
			}
			for _, fn := range l.Service.Functions {
				if fn.Handler == "" || fn.Runtime == "" || fn.DeployedName == "" || fn.MemorySize == 0 || fn.Timeout == 0 {
					t.Errorf("function %s incomplete: %+v", fn.Name, fn)
				}
			}
		})
	}
}

func loadService(t *testing.T, path string, opts Options) *Service {
	t.Helper()
	if opts.Env == nil {
		opts.Env = mapEnv(nil)
	}
	l, err := Load(path, opts)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return l.Service
}

func fn(t *testing.T, s *Service, name string) *Function {
	t.Helper()
	f, ok := s.Function(name)
	if !ok {
		t.Fatalf("no function %q in %v", name, s.FunctionNames())
	}
	return f
}

func intp(n int) *int { return &n }

func TestCorpusModel(t *testing.T) {
	t.Run("tencent-component-ffmpeg-async", func(t *testing.T) {
		s := loadService(t, filepath.Join(corpusDir, "tencent-component-ffmpeg-async.yml"), Options{})
		if s.Name != "ap-guangzhou_default_COSWorkflowFfmpegTranscode" || s.Provider.Name != "tencent" || s.Region != "ap-guangzhou" || s.Stage != "dev" {
			t.Errorf("service = %+v", s)
		}
		f := fn(t, s, "COSWorkflowFfmpegTranscode")
		want := Async{Enabled: true, Trace: true, TraceSet: true}
		if !reflect.DeepEqual(f.Async, want) || f.Timeout != 86400 || f.Runtime != "Nodejs12.16" || f.MemorySize != 1024 ||
			f.DeployedName != "COSWorkflowFfmpegTranscode" || f.Handler != "index.main_handler" || f.Package.Src != "./src" {
			t.Errorf("function = %+v", f)
		}
	})
	t.Run("tencent-component-event", func(t *testing.T) {
		s := loadService(t, filepath.Join(corpusDir, "tencent-component-event.yml"), Options{Region: "ap-beijing"})
		f := fn(t, s, "event-function")
		if s.Region != "ap-beijing" || f.Runtime != scfDefaultRuntime || f.MemorySize != 128 || f.Timeout != 3 || f.Async.Enabled {
			t.Errorf("service = %+v, function = %+v", s, f)
		}
		if want := (Package{Src: "./src", Patterns: []string{"!.env"}}); !reflect.DeepEqual(f.Package, want) {
			t.Errorf("package = %+v, want %+v", f.Package, want)
		}
	})
	t.Run("tencent-framework-project", func(t *testing.T) {
		s := loadService(t, filepath.Join(corpusDir, "tencent-framework-project.yml"), Options{})
		if s.Name != "my-service" || s.Stage != "test" || s.Region != "ap-shanghai" ||
			s.Provider != (Provider{Name: "tencent", Runtime: "Nodejs8.9", Credentials: "~/credentials", Role: "QCS_SCFExcuteRole"}) {
			t.Errorf("service = %+v", s)
		}
		one := fn(t, s, "function_one")
		if one.Runtime != "Python3.6" || one.MemorySize != 256 || one.Timeout != 10 || one.DeployedName != "my-service-test-function_one" {
			t.Errorf("function_one = %+v", one)
		}
		if want := map[string]string{"ENV_FIRST": "env1", "ENV_SECOND": "env2", "ENV_Third": "env2"}; !reflect.DeepEqual(one.Environment, want) {
			t.Errorf("function_one environment = %v, want %v", one.Environment, want)
		}
		two := fn(t, s, "function_two")
		if want := map[string]string{"ENV_FIRST": "env1", "ENV_SECOND": "env2"}; !reflect.DeepEqual(two.Environment, want) || two.Runtime != "python3.6" {
			t.Errorf("function_two = %+v", two)
		}
		wantPatterns := []string{"!package-lock.json", "!.gitignore", "!.git/**", "!node_modules/**", "node_modules/moment/**"}
		if !reflect.DeepEqual(s.Package.Patterns, wantPatterns) {
			t.Errorf("patterns = %q", s.Package.Patterns)
		}
	})
	t.Run("aws-lambda-destinations", func(t *testing.T) {
		s := loadService(t, filepath.Join(corpusDir, "aws-lambda-destinations.yml"), Options{})
		if s.Stage != "develop" || s.Region != "eu-west-1" || s.Provider.Name != "aws" || !s.Package.Individually {
			t.Errorf("service = %+v", s)
		}
		f := fn(t, s, "processPayment")
		want := Async{RetryAttempts: intp(0), MaxEventAge: 60,
			OnSuccess: "arn:aws:sqs:eu-west-1:#{AWS::AccountId}:paymentsNotification",
			OnFailure: "arn:aws:sqs:eu-west-1:#{AWS::AccountId}:paymentsDLQ"}
		if !reflect.DeepEqual(f.Async, want) {
			t.Errorf("async = %+v, want %+v", f.Async, want)
		}
		if f.MemorySize != 128 || f.Timeout != 6 || f.Runtime != "nodejs12.x" || f.DeployedName != "serverless-lambda-destinations-develop-processPayment" {
			t.Errorf("function = %+v", f)
		}
		s = loadService(t, filepath.Join(corpusDir, "aws-lambda-destinations.yml"), Options{Stage: "prod"})
		if f := fn(t, s, "notifyCustomer"); s.Stage != "prod" || f.DeployedName != "serverless-lambda-destinations-prod-notifyCustomer" {
			t.Errorf("with --stage prod: stage %q, name %q", s.Stage, f.DeployedName)
		}
	})
	t.Run("aws-sns-destinations", func(t *testing.T) {
		s := loadService(t, filepath.Join(corpusDir, "aws-sns-destinations.yml"), Options{})
		f := fn(t, s, "hello")
		if s.Region != "eu-west-2" || f.ReservedConcurrency == nil || *f.ReservedConcurrency != 5 ||
			f.Async.OnFailure != "arn:aws:sqs:#{AWS::Region}:#{AWS::AccountId}:failurequeue" || f.MemorySize != 1024 {
			t.Errorf("service = %+v, function = %+v", s, f)
		}
	})
	t.Run("aws-recursive-function", func(t *testing.T) {
		s := loadService(t, filepath.Join(corpusDir, "aws-recursive-function.yml"), Options{})
		f := fn(t, s, "recursiveExample")
		if s.Region != "us-east-1" || s.Stage != "dev" || f.Runtime != "nodejs18.x" || f.Timeout != 6 || f.DeployedName != "recursive-invocation-example-dev-recursiveExample" {
			t.Errorf("service = %+v, function = %+v", s, f)
		}
	})
}
