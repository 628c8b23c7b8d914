using System.Diagnostics;
using System.Text;
using Spectre.Console;

namespace AutonomousBeamline.EndToEnd.Tests.OperatorConsole;

/// <summary>
/// A real terminal for a test: a tmux pane (on its own tmux server) whose tty the test writes the dashboard to
/// and reads keys from, while tmux emulates the screen; <see cref="Screen"/> is what an operator would see.
/// The pane runs only `sleep`, in raw mode, so the tty's input comes to us untouched.
/// </summary>
internal sealed class TmuxTerminal : IDisposable
{
    private readonly string _socket;
    private readonly FileStream _input;
    private readonly StreamWriter _output;

    private TmuxTerminal(string socket, int width, int height, string ttyPath)
    {
        _socket = socket;
        Width = width;
        Height = height;
        TtyPath = ttyPath;
        _input = new FileStream(TtyPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
        _output = new StreamWriter(new FileStream(TtyPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1),
            new UTF8Encoding(false)) { AutoFlush = true };
        Keys = new TtyKeyInput(_input);
    }

    /// <summary>Starts a tmux server with one pane of this size and waits until its tty is in raw mode.</summary>
    public static async Task<TmuxTerminal> StartAsync(int width, int height)
    {
        var socket = "abl-console-" + Guid.NewGuid().ToString("N")[..12];
        Tmux(socket, "new-session", "-d", "-s", "console", "-x", width.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-y", height.ToString(System.Globalization.CultureInfo.InvariantCulture), "stty raw -echo; exec sleep 600");
        try
        {
            // The pane runs sleep only once stty has finished, so from then on the tty is raw.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (Tmux(socket, "display-message", "-p", "-t", "console", "#{pane_current_command}").Trim() != "sleep")
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("the tmux pane did not start");
                await Task.Delay(20);
            }
            var tty = Tmux(socket, "display-message", "-p", "-t", "console", "#{pane_tty}").Trim();
            return new TmuxTerminal(socket, width, height, tty);
        }
        catch
        {
            Tmux(socket, "kill-server");
            throw;
        }
    }

    public int Width { get; }

    public int Height { get; }

    public string TtyPath { get; }

    public IAnsiConsoleInput Keys { get; }

    /// <summary>A Spectre console drawing on the pane with colours and cursor movement, as on a real terminal.</summary>
    public IAnsiConsole CreateConsole()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.TrueColor,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(_output),
        });
        console.Profile.Width = Width;
        console.Profile.Height = Height;
        console.Profile.Capabilities.Unicode = true;
        return console;
    }

    /// <summary>Types text into the pane as an operator would (tmux send-keys), then Enter.</summary>
    public void TypeLine(string text)
    {
        Tmux(_socket, "send-keys", "-t", "console", "-l", text);
        Tmux(_socket, "send-keys", "-t", "console", "Enter");
    }

    /// <summary>The pane's screen as tmux renders it, without colours.</summary>
    public string Screen() => Tmux(_socket, "capture-pane", "-p", "-t", "console");

    private static string Tmux(string socket, params string[] args)
    {
        var start = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-L");
        start.ArgumentList.Add(socket);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("the terminal-level console test needs tmux on the PATH", ex);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(10_000)) throw new TimeoutException($"tmux {string.Join(' ', args)} did not finish");
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"tmux {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Result}");
            return stdout.Result;
        }
    }

    public void Dispose()
    {
        // Ending the tmux server closes the pty, which ends the key reader's blocked read.
        try
        {
            Tmux(_socket, "kill-server");
        }
        catch (InvalidOperationException)
        {
        }
        _output.Dispose();
        _input.Dispose();
    }

    /// <summary>Keys from the raw tty: printable bytes as characters, CR as Enter, DEL as Backspace.</summary>
    private sealed class TtyKeyInput : IAnsiConsoleInput
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<ConsoleKeyInfo> _keys = new();

        public TtyKeyInput(Stream tty)
        {
            new Thread(() => Pump(tty)) { IsBackground = true, Name = "tmux-keys" }.Start();
        }

        private void Pump(Stream tty)
        {
            var buffer = new byte[256];
            var decoder = Encoding.UTF8.GetDecoder();
            var chars = new char[256];
            try
            {
                int read;
                while ((read = tty.Read(buffer, 0, buffer.Length)) > 0)
                {
                    var count = decoder.GetChars(buffer, 0, read, chars, 0);
                    for (var i = 0; i < count; i++)
                    {
                        _keys.Enqueue(chars[i] switch
                        {
                            '\r' or '\n' => new ConsoleKeyInfo('\r', ConsoleKey.Enter, false, false, false),
                            '\x7f' => new ConsoleKeyInfo('\b', ConsoleKey.Backspace, false, false, false),
                            var c => new ConsoleKeyInfo(c, ConsoleKey.NoName, false, false, false),
                        });
                    }
                }
            }
            catch (IOException)
            {
                // The pane went away: no more keys.
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public bool IsKeyAvailable() => !_keys.IsEmpty;

        public ConsoleKeyInfo? ReadKey(bool intercept) => _keys.TryDequeue(out var key) ? key : null;

        public async Task<ConsoleKeyInfo?> ReadKeyAsync(bool intercept, CancellationToken cancellationToken)
        {
            while (true)
            {
                if (_keys.TryDequeue(out var key)) return key;
                await Task.Delay(10, cancellationToken);
            }
        }
    }
}
