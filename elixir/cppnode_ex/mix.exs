defmodule CppnodeEx.MixProject do
  use Mix.Project

  @version "0.1.0"

  def project do
    [
      app: :cppnode_ex,
      version: @version,
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      elixirc_paths: elixirc_paths(Mix.env()),
      # No dependencies on purpose: the package must build with no network and no Hex.
      deps: [],
      description: "Runs the cppnode C node beside an Elixir app and calls its C++ GenServers.",
      docs: [main: "Cppnode"]
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]
end
