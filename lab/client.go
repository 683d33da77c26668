package lab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"time"
)

// Client talks to a running lab's control plane.
type Client struct {
	Info ControlInfo
	HTTP *http.Client
}

// Dial reads the control file of the lab in dir.
func Dial(dir string) (*Client, error) {
	data, err := os.ReadFile(ControlFile(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf(msgNoLab, dir, ControlFile(dir), dir)
	}
	if err != nil {
		return nil, err
	}
	var info ControlInfo
	if err := json.Unmarshal(data, &info); err != nil || info.URL == "" {
		return nil, fmt.Errorf(msgControlDamaged, ControlFile(dir))
	}
	return &Client{Info: info, HTTP: &http.Client{Timeout: 5 * time.Minute}}, nil
}

// Do calls the control plane: in (nil for GET) as JSON, the answer into out.
func (c *Client) Do(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.Info.URL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Info.Secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf(msgNotAnswering, c.Info.URL, errText(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf(msgLabAnswered, resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}
