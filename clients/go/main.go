// Command go-probe drives the official OpenAI Go client (github.com/openai/openai-go/v3)
// for the ATLAS acceptance suite. It reads one JSON request on stdin and writes one JSON
// result on stdout; the protocol is described in atlas_suite/probes.py.
//
// An API error is a result ({"ok": false, ...}, exit 0). Only a probe problem (bad stdin,
// an unknown operation, a transport failure) exits non-zero, with the reason on stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/respjson"
)

const clientName = "openai-go"
const sdkModule = "github.com/openai/openai-go/v3"

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type request struct {
	BaseURL      string          `json:"base_url"`
	APIKey       *string         `json:"api_key"`
	Operation    string          `json:"operation"`
	Model        string          `json:"model"`
	Prompt       string          `json:"prompt"`
	Messages     []message       `json:"messages"`
	MaxTokens    *int64          `json:"max_tokens"`
	Temperature  *float64        `json:"temperature"`
	Atlas        json.RawMessage `json:"atlas"`
	TimeoutS     *float64        `json:"timeout_s"`
	Stop         []string        `json:"stop"`
	IncludeUsage bool            `json:"include_usage"`
	Tools        []tool          `json:"tools"`
	ToolChoice   string          `json:"tool_choice"`
}

// tool is an OpenAI function tool as the suite writes it: {"type": "function", "function": {...}}.
type tool struct {
	Function struct {
		Name        string         `json:"name"`
		Description string         `json:"description"`
		Parameters  map[string]any `json:"parameters"`
	} `json:"function"`
}

// usageOf reads the token usage the SDK typed, or nil when the answer had none.
func usageOf(u openai.CompletionUsage, present bool) any {
	if !present {
		return nil
	}
	return map[string]int64{"prompt_tokens": u.PromptTokens,
		"completion_tokens": u.CompletionTokens, "total_tokens": u.TotalTokens}
}

// rawOf keeps the answer's JSON as it arrived, for the suite to check with OpenAI's types.
func rawOf(raw string) any {
	var doc any
	if json.Unmarshal([]byte(raw), &doc) != nil {
		return raw
	}
	return doc
}

func chatTools(req request) []openai.ChatCompletionToolUnionParam {
	out := []openai.ChatCompletionToolUnionParam{}
	for _, t := range req.Tools {
		def := openai.FunctionDefinitionParam{Name: t.Function.Name,
			Parameters: openai.FunctionParameters(t.Function.Parameters)}
		if t.Function.Description != "" {
			def.Description = openai.String(t.Function.Description)
		}
		out = append(out, openai.ChatCompletionFunctionTool(def))
	}
	return out
}

type result map[string]any

func clientVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == sdkModule {
				return strings.TrimPrefix(dep.Version, "v")
			}
		}
	}
	return "unknown"
}

// atlasOf reads the response extension the Go client's way: unknown fields land in
// JSON.ExtraFields, each with its raw JSON text.
func atlasOf(extra map[string]respjson.Field) any {
	field, ok := extra["atlas"]
	if !ok || field.Raw() == "" {
		return nil
	}
	var block any
	if err := json.Unmarshal([]byte(field.Raw()), &block); err != nil {
		return nil
	}
	return block
}

func hasAtlas(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s != "" && s != "null"
}

func chatMessages(req request) ([]openai.ChatCompletionMessageParamUnion, error) {
	msgs := req.Messages
	if len(msgs) == 0 && req.Prompt != "" {
		msgs = []message{{Role: "user", Content: req.Prompt}}
	}
	out := make([]openai.ChatCompletionMessageParamUnion, 0, len(msgs))
	for _, m := range msgs {
		switch m.Role {
		case "system":
			out = append(out, openai.SystemMessage(m.Content))
		case "developer":
			out = append(out, openai.DeveloperMessage(m.Content))
		case "assistant":
			out = append(out, openai.AssistantMessage(m.Content))
		case "user", "":
			out = append(out, openai.UserMessage(m.Content))
		default:
			return nil, fmt.Errorf("unsupported message role %q", m.Role)
		}
	}
	return out, nil
}

var operations = map[string]bool{
	"models": true, "completion": true, "completion_stream": true, "chat": true, "chat_stream": true,
}

func run(ctx context.Context, client openai.Client, req request, opts []option.RequestOption) (result, error) {
	if !operations[req.Operation] {
		return nil, errUsage{fmt.Sprintf("unknown operation %q", req.Operation)}
	}
	model := req.Model
	if model == "" && req.Operation != "models" {
		page, err := client.Models.List(ctx)
		if err != nil {
			return nil, err
		}
		if len(page.Data) == 0 {
			return nil, errors.New("the server lists no model")
		}
		model = page.Data[0].ID
	}
	res := result{"atlas": nil}
	switch req.Operation {
	case "models":
		page, err := client.Models.List(ctx)
		if err != nil {
			return nil, err
		}
		ids := []string{}
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		res["models"] = ids
		if len(ids) > 0 {
			res["model"] = ids[0]
		}
	case "completion", "completion_stream":
		params := openai.CompletionNewParams{
			Model:  openai.CompletionNewParamsModel(model),
			Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(req.Prompt)},
		}
		if req.MaxTokens != nil {
			params.MaxTokens = openai.Int(*req.MaxTokens)
		}
		params.Temperature = openai.Float(0)
		if req.Temperature != nil {
			params.Temperature = openai.Float(*req.Temperature)
		}
		if len(req.Stop) > 0 {
			params.Stop = openai.CompletionNewParamsStopUnion{OfStringArray: req.Stop}
		}
		if req.IncludeUsage {
			params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		}
		if req.Operation == "completion" {
			resp, err := client.Completions.New(ctx, params, opts...)
			if err != nil {
				return nil, err
			}
			res["model"] = resp.Model
			res["atlas"] = atlasOf(resp.JSON.ExtraFields)
			res["usage"] = usageOf(resp.Usage, resp.JSON.Usage.Valid())
			res["raw"] = []any{rawOf(resp.RawJSON())}
			if len(resp.Choices) > 0 {
				res["text"] = resp.Choices[0].Text
				res["finish_reason"] = string(resp.Choices[0].FinishReason)
			}
			return res, nil
		}
		stream := client.Completions.NewStreaming(ctx, params, opts...)
		defer stream.Close()
		var text strings.Builder
		chunks := 0
		raw := []any{}
		for stream.Next() {
			chunk := stream.Current()
			chunks++
			raw = append(raw, rawOf(chunk.RawJSON()))
			if chunk.JSON.Usage.Valid() {
				res["usage"] = usageOf(chunk.Usage, true)
			}
			if chunk.Model != "" {
				res["model"] = chunk.Model
			}
			if block := atlasOf(chunk.JSON.ExtraFields); block != nil {
				res["atlas"] = block
			}
			for _, c := range chunk.Choices {
				if c.Index != 0 {
					continue
				}
				text.WriteString(c.Text)
				if c.FinishReason != "" {
					res["finish_reason"] = string(c.FinishReason)
				}
			}
		}
		if err := stream.Err(); err != nil {
			return nil, err
		}
		res["text"] = text.String()
		res["chunks"] = chunks
		res["raw"] = raw
	case "chat", "chat_stream":
		msgs, err := chatMessages(req)
		if err != nil {
			return nil, err
		}
		params := openai.ChatCompletionNewParams{Model: model, Messages: msgs}
		if req.MaxTokens != nil {
			params.MaxTokens = openai.Int(*req.MaxTokens)
		}
		params.Temperature = openai.Float(0)
		if req.Temperature != nil {
			params.Temperature = openai.Float(*req.Temperature)
		}
		if len(req.Stop) > 0 {
			params.Stop = openai.ChatCompletionNewParamsStopUnion{OfStringArray: req.Stop}
		}
		if req.IncludeUsage {
			params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		}
		if len(req.Tools) > 0 {
			params.Tools = chatTools(req)
		}
		if req.ToolChoice != "" {
			params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String(req.ToolChoice)}
		}
		if req.Operation == "chat" {
			resp, err := client.Chat.Completions.New(ctx, params, opts...)
			if err != nil {
				return nil, err
			}
			res["model"] = resp.Model
			res["atlas"] = atlasOf(resp.JSON.ExtraFields)
			res["usage"] = usageOf(resp.Usage, resp.JSON.Usage.Valid())
			res["raw"] = []any{rawOf(resp.RawJSON())}
			if len(resp.Choices) > 0 {
				res["text"] = resp.Choices[0].Message.Content
				res["finish_reason"] = resp.Choices[0].FinishReason
				calls := []any{}
				for _, call := range resp.Choices[0].Message.ToolCalls {
					calls = append(calls, map[string]string{"name": call.Function.Name,
						"arguments": call.Function.Arguments})
				}
				res["tool_calls"] = calls
			}
			return res, nil
		}
		stream := client.Chat.Completions.NewStreaming(ctx, params, opts...)
		defer stream.Close()
		var text strings.Builder
		chunks := 0
		raw := []any{}
		for stream.Next() {
			chunk := stream.Current()
			chunks++
			raw = append(raw, rawOf(chunk.RawJSON()))
			if chunk.JSON.Usage.Valid() {
				res["usage"] = usageOf(chunk.Usage, true)
			}
			if chunk.Model != "" {
				res["model"] = chunk.Model
			}
			if block := atlasOf(chunk.JSON.ExtraFields); block != nil {
				res["atlas"] = block
			}
			for _, c := range chunk.Choices { // the last chunk may have none: fine
				if c.Index != 0 {
					continue
				}
				text.WriteString(c.Delta.Content)
				if c.FinishReason != "" {
					res["finish_reason"] = c.FinishReason
				}
			}
		}
		if err := stream.Err(); err != nil {
			return nil, err
		}
		res["text"] = text.String()
		res["chunks"] = chunks
		res["raw"] = raw
	default:
		return nil, errUsage{fmt.Sprintf("unknown operation %q", req.Operation)}
	}
	return res, nil
}

type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func emit(res result) {
	res["client"] = clientName
	res["client_version"] = clientVersion()
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		fail(fmt.Sprintf("cannot encode the result: %v", err))
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "go-probe:", msg)
	os.Exit(2)
}

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(fmt.Sprintf("cannot read stdin: %v", err))
	}
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		// A request the probe cannot read is reported as a result, so the caller sees why.
		emit(result{"ok": false, "error_type": "ProbeRequestError", "status": nil,
			"message": fmt.Sprintf("the probe request is not valid JSON: %v", err)})
		os.Exit(2)
	}
	if req.BaseURL == "" {
		emit(result{"ok": false, "error_type": "ProbeRequestError", "status": nil,
			"message": "the probe request has no base_url"})
		os.Exit(2)
	}
	key := "no-key"
	if req.APIKey != nil && *req.APIKey != "" {
		key = *req.APIKey
	}
	timeout := 120 * time.Second
	if req.TimeoutS != nil && *req.TimeoutS > 0 {
		timeout = time.Duration(*req.TimeoutS * float64(time.Second))
	}
	client := openai.NewClient(
		option.WithBaseURL(req.BaseURL),
		option.WithAPIKey(key),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(timeout),
	)
	var opts []option.RequestOption
	if hasAtlas(req.Atlas) {
		// The SDK's documented way to send a body field it has no type for.
		opts = append(opts, option.WithJSONSet("atlas", req.Atlas))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()

	res, err := run(ctx, client, req, opts)
	if err != nil {
		var apiErr *openai.Error
		var usage errUsage
		switch {
		case errors.As(err, &apiErr):
			out := result{"ok": false, "error_type": "openai.Error", "status": apiErr.StatusCode,
				"message": apiErr.Message, "param": nil, "type": apiErr.Type}
			if apiErr.Param != "" {
				out["param"] = apiErr.Param
			}
			if raw := apiErr.RawJSON(); raw != "" {
				var body any
				if json.Unmarshal([]byte(raw), &body) == nil {
					out["error_body"] = body
				}
			}
			emit(out)
			return
		case errors.As(err, &usage):
			emit(result{"ok": false, "error_type": "ProbeRequestError", "status": nil,
				"message": usage.msg})
			os.Exit(2)
		default:
			fail(fmt.Sprintf("%T: %v", err, err))
		}
	}
	res["ok"] = true
	emit(res)
}
