// Package spec reads a serverless.yml the way the Serverless Framework v3 does
// and turns it into the provider-neutral [Service] model every asyncfn command
// works from.
//
// Loading happens in four steps, each of which reports problems with the file,
// line, column and dotted property path they concern:
//
//  1. parse: YAML (gopkg.in/yaml.v3, positions kept) with the Framework's
//     CloudFormation short-form tags (!Ref, !GetAtt, ...) turned into their
//     long form, and scalars typed as js-yaml types them;
//  2. resolve: ${source:address, fallback} variables with the Framework's
//     parser, sources (opt, env, self, sls, param, file, strToBool, and
//     aws:region), fallbacks, nesting, type rules and cycle detection;
//  3. normalize: the defaults `serverless print` shows (provider.stage,
//     function names, lists of functions merged, ...), so that [Loaded.JSON]
//     matches the Framework's output;
//  4. build and validate: the typed model, with per-provider limits as errors
//     and keys asyncfn does not act on as warnings (configValidationMode).
//
// [Load] validates for a deploy: whatever asyncfn cannot deploy through the
// clouds' APIs is an error. [LoadForPrint] reads a file as `serverless print`
// does: what the Framework prints (its schema only warns by default) loads,
// with those problems in [Loaded.DeployErrors]; only what the Framework
// refuses too is an error.
//
// Both the Framework form (service/provider/functions) and Tencent's component
// form (component: scf + inputs) produce the same model.
package spec
