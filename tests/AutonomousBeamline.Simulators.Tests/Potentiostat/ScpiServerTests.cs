using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Simulators.Tests.Potentiostat;

public class ScpiServerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 21, 0, 0, TimeSpan.Zero));
    private readonly ElectrochemicalCell _cell;
    private readonly ScpiServer _server;

    public ScpiServerTests()
    {
        _cell = new ElectrochemicalCell(_time, 0.005, new SafetyEnvelope(2.5, 3.8, 0.01, 2, 0.005), 0.5);
        _server = new ScpiServer(_cell);
    }

    private string Query(string line) => Assert.Single(_server.ProcessLine(line));

    private void Command(string line) => Assert.Empty(_server.ProcessLine(line));

    private List<string> DrainErrors()
    {
        var errors = new List<string>();
        while (true)
        {
            var entry = Query(":SYST:ERR?");
            if (entry.StartsWith("0,", StringComparison.Ordinal)) return errors;
            errors.Add(entry);
        }
    }

    [Fact]
    public void Identifies_and_answers_operation_complete()
    {
        Assert.Equal(4, Query("*IDN?").Split(',').Length);
        Assert.Equal("1", Query("*OPC?"));
        Assert.Equal("0,\"No error\"", Query(":SYST:ERR?"));
    }

    [Theory]
    [InlineData(":SOURce:CURRent:LEVel 0.002")]
    [InlineData(":SOUR:CURR:LEV 0.002")]
    [InlineData(":sour:curr 0.002")]
    [InlineData("SOURCE:CURRENT 2.000000E-03")]
    [InlineData("sour:Curr:level 2e-3")]
    [InlineData(":SOUR:CURR .002\r")]
    public void Short_long_any_case_optional_nodes_and_leading_colon_all_reach_the_same_setting(string command)
    {
        Command(command);
        Assert.Empty(DrainErrors());
        Assert.Equal(0.002, _cell.CurrentLevelA, 12);
        Assert.Equal("2.000000E-03", Query(":SOUR:CURR?"));
    }

    [Theory]
    [InlineData(":SOURC:CURR 0.002")]
    [InlineData(":SOUR:CURRE 0.002")]
    [InlineData(":SOU:CURR 0.002")]
    [InlineData(":SOUR:CURR:LEVE 0.002")]
    [InlineData(":SOUR:BOGUS 0.002")]
    [InlineData(":SOUR::CURR 0.002")]
    public void Keywords_between_short_and_long_form_and_unknown_headers_are_undefined(string command)
    {
        Command(command);
        var error = Assert.Single(DrainErrors());
        Assert.StartsWith("-113,\"Undefined header", error);
        Assert.Equal(0, _cell.CurrentLevelA);
    }

    [Fact]
    public void Every_command_of_the_ICD_table_is_understood()
    {
        Command("*RST");
        Command("*CLS");
        Command(":SOURce:FUNCtion CURRent");
        Command(":SOURce:CURRent:VLIMit 3.6");
        Command(":SOURce:CURRent:LEVel 0.001");
        Command(":SOURce:CURRent 0.001");
        Command(":OUTPut:STATe ON");
        Assert.Equal("1", Query(":OUTPut:STATe?"));
        Assert.Equal("1", Query(":OUTP?"));
        Assert.Equal("0", Query(":SOURce:CURRent:VLIMit:TRIPped?"));
        Assert.InRange(double.Parse(Query(":MEASure:VOLTage?"), System.Globalization.CultureInfo.InvariantCulture), 3.3, 3.6);
        Assert.Equal("1.000000E-03", Query(":MEASure:CURRent?"));
        Command(":OUTPut OFF");
        Command(":SOURce:FUNCtion VOLTage");
        Command(":SOURce:VOLTage:ILIMit 0.001");
        Command(":SOURce:VOLTage:LEVel 3.5");
        Command(":SOURce:VOLTage 3.5");
        Command(":OUTP 1");
        Assert.Equal("1", Query(":SOURce:VOLTage:ILIMit:TRIPped?"));
        Assert.Equal("0,\"No error\"", Query(":SYSTem:ERRor:NEXT?"));
        Assert.Equal("VOLT", Query(":SOUR:FUNC?"));
        Command("*RST");
        Assert.Equal("0", Query(":OUTP?"));
        Assert.False(_cell.OutputOn);
    }

    [Fact]
    public void Compound_line_resolves_each_unit_against_the_previous_units_parent()
    {
        // VLIM after :SOUR:CURR:LEV resolves under :SOUR:CURR; the path survives a common command in between.
        Command(":SOUR:CURR:LEV 0.001;VLIM 3.7;*CLS;:OUTP ON");
        Assert.Empty(DrainErrors());
        Assert.Equal(0.001, _cell.CurrentLevelA, 12);
        Assert.Equal(3.7, _cell.VoltageLimitV, 12);
        Assert.True(_cell.OutputOn);
    }

    [Fact]
    public void Compound_line_with_two_queries_gives_one_line_per_query()
    {
        var replies = _server.ProcessLine("*OPC?;:OUTP?");
        Assert.Equal(["1", "0"], replies);
    }

    [Fact]
    public void Path_rule_does_not_fall_back_to_the_root()
    {
        // After :SOUR:CURR (level implied) the path is :SOUR:, so VLIM alone is :SOUR:VLIM, which does not exist.
        Command(":SOUR:CURR 0.001;VLIM 3.7");
        Assert.StartsWith("-113", Assert.Single(DrainErrors()));
        Assert.Equal(0.001, _cell.CurrentLevelA, 12);
        Assert.NotEqual(3.7, _cell.VoltageLimitV);

        // A leading colon goes back to the root.
        Command(":SOUR:CURR 0.001;:SOUR:CURR:VLIM 3.7");
        Assert.Empty(DrainErrors());
        Assert.Equal(3.7, _cell.VoltageLimitV, 12);
    }

    [Fact]
    public void A_failing_unit_stops_the_rest_of_its_line_but_earlier_units_stand()
    {
        Command(":SOUR:CURR:VLIM 3.7;:SOUR:CURR 0.5;:OUTP ON");
        var error = Assert.Single(DrainErrors());
        Assert.StartsWith("-222,\"Data out of range", error);
        Assert.Equal(3.7, _cell.VoltageLimitV, 12);
        Assert.False(_cell.OutputOn);

        Command(":BOGUS 1;:OUTP ON");
        Assert.StartsWith("-113", Assert.Single(DrainErrors()));
        Assert.False(_cell.OutputOn);
    }

    [Fact]
    public void Out_of_range_value_is_refused_with_222_and_leaves_the_setting_unchanged()
    {
        Command(":SOUR:CURR 0.003");
        Command(":SOUR:CURR 0.2");
        Command(":SOUR:CURR:VLIM 42");
        var errors = DrainErrors();
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.StartsWith("-222,\"Data out of range", e));
        Assert.Equal(0.003, _cell.CurrentLevelA, 12);
        Assert.Equal("3.000000E-03", Query(":SOUR:CURR?"));
    }

    [Theory]
    [InlineData(":SOUR:CURR abc")]
    [InlineData(":SOUR:CURR 1,5")]
    [InlineData(":SOUR:CURR 0,002")]
    [InlineData(":SOUR:CURR 1e")]
    [InlineData(":OUTP MAYBE")]
    [InlineData(":SOUR:FUNC RESistance")]
    [InlineData(":SOUR:FUNC CURRE")]
    public void Malformed_parameters_queue_a_minus_100_class_error(string command)
    {
        Command(command);
        var error = Assert.Single(DrainErrors());
        var code = int.Parse(error.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(code, -199, -100);
        Assert.Equal(0, _cell.CurrentLevelA);
        Assert.False(_cell.OutputOn);
    }

    [Fact]
    public void Data_type_error_is_minus_104_and_missing_parameter_is_reported()
    {
        Command(":SOUR:CURR abc");
        Assert.StartsWith("-104,\"Data type error", Assert.Single(DrainErrors()));
        Command(":SOUR:CURR");
        Assert.StartsWith("-109", Assert.Single(DrainErrors()));
    }

    [Theory]
    [InlineData("ON", true)]
    [InlineData("on", true)]
    [InlineData("1", true)]
    [InlineData("OFF", false)]
    [InlineData("0", false)]
    public void Booleans_are_accepted_as_on_off_1_0_and_answered_as_1_0(string value, bool expected)
    {
        Command(":SOUR:CURR:VLIM 3.7");
        Command(":OUTP ON");
        Command($":OUTP {value}");
        Assert.Equal(expected, _cell.OutputOn);
        Assert.Equal(expected ? "1" : "0", Query(":OUTP?"));
    }

    [Fact]
    public void Error_queue_is_first_in_first_out_and_empty_answers_no_error()
    {
        Command(":A");
        Command(":SOUR:CURR 5");
        Command(":SOUR:CURR x");
        Assert.StartsWith("-113", Query(":SYST:ERR?"));
        Assert.StartsWith("-222", Query(":SYST:ERR?"));
        Assert.StartsWith("-104", Query(":SYST:ERR?"));
        Assert.Equal("0,\"No error\"", Query(":SYST:ERR?"));
    }

    [Fact]
    public void Error_queue_overflow_replaces_the_last_entry_with_minus_350()
    {
        for (var i = 0; i < 15; i++) Command($":NOPE{i}");
        Assert.Equal(10, _server.PendingErrors);
        var errors = DrainErrors();
        Assert.Equal(10, errors.Count);
        Assert.All(errors.Take(9), e => Assert.StartsWith("-113", e));
        Assert.Equal("-350,\"Queue overflow\"", errors[^1]);
        Assert.Contains("NOPE0", errors[0]);
    }

    [Fact]
    public void Cls_clears_the_error_queue()
    {
        Command(":NOPE");
        Command("*CLS");
        Assert.Equal("0,\"No error\"", Query(":SYST:ERR?"));
    }

    [Fact]
    public void Only_queries_reply_and_a_query_with_a_parameter_is_refused()
    {
        Command(":SOUR:CURR 0.001");
        Command("");
        Command(":OUTP? 1");
        Assert.StartsWith("-108", Assert.Single(DrainErrors()));
        Command(":MEAS:VOLT 1");
        Assert.StartsWith("-113", Assert.Single(DrainErrors()));
    }

    [Fact]
    public void Changing_the_source_function_turns_the_output_off()
    {
        Command(":SOUR:CURR:VLIM 3.7;:OUTP ON");
        Command(":SOUR:FUNC VOLT");
        Assert.False(_cell.OutputOn);
    }

    [Fact]
    public void Measurements_are_printed_in_NR3()
    {
        Assert.Matches(@"^-?\d\.\d{6}E[+-]\d{2}$", Query(":MEAS:VOLT?"));
        Assert.Equal("0.000000E+00", Query(":MEAS:CURR?"));
    }

    [Fact]
    public void Fault_injection_drops_garbles_and_refuses()
    {
        _server.Faults.DropReplies(1);
        Assert.Empty(_server.ProcessLine("*OPC?"));
        Assert.Equal("1", Query("*OPC?"));

        _server.Faults.GarbleReplies(1);
        Assert.NotEqual("1", Query("*OPC?"));

        _server.Faults.RefuseNextCommand(-200, "Execution error;injected");
        Command(":SOUR:CURR 0.001");
        Assert.Equal("-200,\"Execution error;injected\"", Assert.Single(DrainErrors()));
        Assert.Equal(0, _cell.CurrentLevelA);
        Command(":SOUR:CURR 0.001");
        Assert.Equal(0.001, _cell.CurrentLevelA, 12);
    }
}
