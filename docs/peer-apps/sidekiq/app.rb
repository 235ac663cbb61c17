require "sinatra/base"
require "json"
require_relative "jobs"

class App < Sinatra::Base
  before { content_type :json }

  post "/signup" do
    email = params["email"] or halt 422, { error: "email is required" }.to_json
    # ... create the user ...
    WelcomeEmailJob.perform_async(email)
    SignupReminderJob.perform_in(10, email)
    status 202
    { ok: true }.to_json
  end

  post "/reports" do
    id = ReportJob.perform_async(params.fetch("kind", "monthly"))
    status 202
    headers "Location" => "/reports/#{id}"
    { id: id }.to_json
  end

  get "/reports/:id" do
    report = Sidekiq::Status.get_all(params[:id])
    halt 404 if report.empty?
    {
      status: report["status"],
      progress: report["pct_complete"].to_i,
      result: (report.slice("kind", "rows", "url") if report["status"] == "complete"),
    }.to_json
  end
end
